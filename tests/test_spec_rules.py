"""Rules a spec's structs cannot express, each checked on its own."""

from __future__ import annotations

import msgspec
import pytest

from ssm_profile.aws.partitions import partitions
from ssm_profile.errors import SpecError
from ssm_profile.spec.load import Spec
from ssm_profile.spec.rules import check_role_names_unique, check_session_manager, check_vpc_endpoints


def spec(**sections: object) -> Spec:
    return msgspec.convert({"version": 1, "regions": ["us-east-1"], **sections}, Spec)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"hybrid": {"enabled": True, "role_name": "SSMInstanceProfile"}}, "hybrid.role_name: 'SSMInstanceProfile' is also role.name"),
        (
            {"default_host_management": {"enabled": True, "role_name": "Same"}, "hybrid": {"enabled": True, "role_name": "Same"}},
            "hybrid.role_name: 'Same' is also default_host_management.role_name",
        ),
    ],
)
def test_every_role_needs_its_own_name(sections: dict, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        check_role_names_unique(spec(**sections))
    assert str(caught.value) == f"{message}; each role needs its own name"


def test_a_disabled_role_may_share_a_name() -> None:
    check_role_names_unique(spec(hybrid={"enabled": False, "role_name": "SSMInstanceProfile"}))
    with pytest.raises(SpecError, match=r"^hybrid.role_name"):
        check_role_names_unique(spec(hybrid={"enabled": True, "role_name": "SSMInstanceProfile"}))


def test_vpc_endpoints_list_each_service_once_and_need_statement_one() -> None:
    with pytest.raises(SpecError, match=r"^vpc_endpoints.services\[2\]: 'ssm' is listed twice$"):
        check_vpc_endpoints(spec(vpc_endpoints={"services": ["ssm", "s3", "ssm"]}))
    with pytest.raises(SpecError, match=r"^s3.vpc_endpoint: must be true when vpc_endpoints.enabled"):
        check_vpc_endpoints(spec(vpc_endpoints={"enabled": True}))
    check_vpc_endpoints(spec(vpc_endpoints={"enabled": True}, s3={"vpc_endpoint": True}))


def test_session_manager_settings_need_it_enabled() -> None:
    aws = partitions()["aws"]
    with pytest.raises(SpecError, match=r"^session_manager.enabled: is false, but session_manager settings are given"):
        check_session_manager(spec(session_manager={"cloudwatch_log_group": "g"}), aws)
    check_session_manager(spec(session_manager={"enabled": True, "cloudwatch_log_group": "g"}), aws)
