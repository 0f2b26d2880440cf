"""Roles Systems Manager assumes, and the facts about them Grants carries for the renderers."""

from __future__ import annotations

from ssm_profile.grants.build import build_grants
from ssm_profile.grants.service_roles import DHMC_DOC, HYBRID_DOC, default_host_management_role, hybrid_role, service_roles
from ssm_profile.spec.load import ValidatedSpec, spec_from_data


def valid(**sections: object) -> ValidatedSpec:
    return spec_from_data({"version": 1, "regions": ["us-east-1", "eu-west-1"], **sections})


def test_each_service_role_carries_its_documentation() -> None:
    spec = valid(default_host_management={"enabled": True}, hybrid={"enabled": True})
    dhmc = default_host_management_role(spec, ())
    assert (dhmc.key, dhmc.doc_url, dhmc.path) == ("default_host_management", DHMC_DOC, "/service-role/")
    assert [p.arn for p in dhmc.managed_policies] == ["arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"]
    hybrid = hybrid_role(spec, (), ())
    assert (hybrid.key, hybrid.doc_url) == ("hybrid", HYBRID_DOC)
    assert [r.key for r in service_roles(spec, (), ())] == ["default_host_management", "hybrid"]
    assert service_roles(valid(), (), ()) == ()


def test_the_hybrid_role_takes_the_core_policy_whatever_the_instance_role_takes() -> None:
    grants = build_grants(valid(managed_policies={"instance_core": False, "cloudwatch_agent": True}, hybrid={"enabled": True}))
    (role,) = grants.service_roles
    assert [p.key for p in role.managed_policies] == ["instance_core", "cloudwatch_agent"]
    assert [p.key for p in grants.managed_policies] == ["cloudwatch_agent"]


def test_grants_say_which_custom_policies_are_s3_policies() -> None:
    buckets = [{"name": f"bucket-number-{index:04d}"} for index in range(250)]
    grants = build_grants(valid(s3={"buckets": buckets}, session_manager={"enabled": True, "cloudwatch_log_group": "g"}))
    assert [p.purpose for p in grants.custom_policies] == ["s3", "s3", "session_manager"]
    assert [p.key for p in grants.s3_policies] == ["s3", "s3_2"]
    assert grants.s3_policies == grants.custom_policies[:2]
