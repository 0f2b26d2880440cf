"""IAM's quotas: a policy split into numbered parts, and GenerationError where a quota cannot be met."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run
from ssm_profile.aws.iam_policy import MANAGED_POLICY_MAX_CHARS, Statement, numbered_policies
from ssm_profile.errors import GenerationError, SpecError
from ssm_profile.grants.build import build_grants
from ssm_profile.spec.load import spec_from_data

MANY_BUCKETS = [{"name": f"bucket-number-{index:04d}"} for index in range(400)]


def statements(count: int) -> list[Statement]:
    return [Statement(f"S{index}", ("s3:GetObject",), (f"arn:aws:s3:::bucket-{index:04d}/*",) * 40) for index in range(count)]


def test_numbered_policies_name_and_key_each_part_and_keep_the_purpose() -> None:
    parts = numbered_policies(statements(12), "s3", "Base", "s3.policy_name", "about")
    assert len(parts) > 1
    assert [p.name for p in parts] == ["Base"] + [f"Base-{n}" for n in range(2, len(parts) + 1)]
    assert [p.key for p in parts] == ["s3"] + [f"s3_{n}" for n in range(2, len(parts) + 1)]
    assert {p.purpose for p in parts} == {"s3"} and {p.description for p in parts} == {"about"}
    assert all(p.size <= MANAGED_POLICY_MAX_CHARS for p in parts)
    assert [s.sid for p in parts for s in p.statements] == [f"S{index}" for index in range(12)]
    assert numbered_policies([], "s3", "Base", "s3.policy_name", "about") == ()


def test_a_split_name_over_iams_quota_is_a_generation_error_naming_the_field() -> None:
    name = "P" * 127
    data = {"version": 1, "regions": ["us-east-2"], "s3": {"policy_name": name, "buckets": MANY_BUCKETS}}
    with pytest.raises(GenerationError) as caught:
        build_grants(spec_from_data(data))
    assert not isinstance(caught.value, SpecError)
    assert str(caught.value) == (
        f"s3.policy_name: {name!r} leaves no room for the suffix '-3' of the split policies; use at most 126 characters"
    )


def test_too_many_policies_for_the_roles_quota_is_a_generation_error(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "regions": ["us-east-2"],
        "managed_policies": {"directory_service": True, "cloudwatch_agent": True},
        "s3": {"buckets": [{"name": "b-one"}]},
        "limits": {"managed_policies_per_role": 3},
    }
    expected = (
        "limits.managed_policies_per_role: the role needs 4 managed policies (3 AWS managed, 1 custom policies split "
        "to IAM's 6,144-character limit) but the quota is 3; raise the quota in Service Quotas and set "
        "limits.managed_policies_per_role (at most 20), or use fewer Regions"
    )
    with pytest.raises(GenerationError) as caught:
        build_grants(spec_from_data(data))
    assert str(caught.value) == expected and caught.value.exit_code == 2
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    code, _, err = run("generate", str(path), "-o", str(tmp_path / "module"))
    assert (code, err) == (2, f"ssm-profile: error: {expected}\n")
    assert not (tmp_path / "module").exists()


def test_a_session_policy_named_like_an_s3_part_is_still_a_spec_error() -> None:
    data = {
        "version": 1,
        "regions": ["us-east-2"],
        "s3": {"policy_name": "Shared", "buckets": [{"name": "b-one"}]},
        "session_manager": {"enabled": True, "policy_name": "Shared", "cloudwatch_log_group": "g"},
    }
    with pytest.raises(SpecError, match=r"^session_manager.policy_name: 'Shared' is also a name of the S3 policies"):
        build_grants(spec_from_data(data))
