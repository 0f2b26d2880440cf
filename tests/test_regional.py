"""Regional setup: global IAM once, regional resources once per Region on that Region's provider."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import MODULES, example_specs
from ssm_profile import SpecError, generate
from ssm_profile.grants import ACCOUNT, RESOURCELESS_ACTIONS, build_grants
from ssm_profile.spec import spec_from_data
from ssm_profile.terraform.harness import PLACEHOLDER_ACCOUNT, normalise_plan, plan_module

FULL = example_specs()["multi-region-full"]


def grants_of(**sections):
    return build_grants(spec_from_data({"version": 1, "regions": ["us-east-1", "eu-west-1"], **sections}))


def test_default_host_management_role_and_setting_per_region() -> None:
    grants = grants_of(default_host_management={"enabled": True})
    (role,) = grants.service_roles
    assert (role.name, role.path, role.trusted_service) == (
        "AWSSystemsManagerDefaultEC2InstanceManagementRole", "/service-role/", "ssm.amazonaws.com"
    )
    assert [p.name for p in role.managed_policies] == ["AmazonSSMManagedEC2InstanceDefaultPolicy"]
    assert [(s.region, s.default_host_management_role) for s in grants.regional] == [
        ("us-east-1", "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"),
        ("eu-west-1", "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"),
    ]


def test_hybrid_role_trust_conditions_name_account_and_each_region() -> None:
    grants = grants_of(hybrid={"enabled": True}, s3={"buckets": [{"name": "mine-bucket"}]})
    (role,) = grants.service_roles
    conditions = {c.variable: (c.test, c.values) for c in role.conditions}
    assert conditions == {
        "aws:SourceAccount": ("StringEquals", (ACCOUNT,)),
        "aws:SourceArn": ("ArnLike", (f"arn:aws:ssm:us-east-1:{ACCOUNT}:*", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:*")),
    }
    assert [p.name for p in role.managed_policies] == ["AmazonSSMManagedInstanceCore"]
    assert role.custom_policy_keys == ("s3",)


def test_session_manager_grants_only_what_is_configured() -> None:
    assert grants_of(session_manager={"enabled": True}).custom_policies == ()
    grants = grants_of(session_manager={"enabled": True, "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234"})
    (policy,) = grants.custom_policies
    assert [(s.actions, s.resources) for s in policy.statements] == [
        (("kms:Decrypt",), ("arn:aws:kms:us-east-1:111122223333:key/abcd-1234",))
    ]


def test_session_manager_without_core_adds_the_documented_minimum() -> None:
    grants = grants_of(managed_policies={"instance_core": False}, session_manager={"enabled": True})
    statements = {s.sid: s for p in grants.custom_policies for s in p.statements}
    assert set(statements["SessionManagerChannels"].actions) == {
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
    }
    assert statements["SessionManagerInstanceInformation"].resources == (
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*"
    )


def test_star_resource_only_for_actions_without_resource_types() -> None:
    grants = build_grants(spec_from_data(json.loads(json.dumps(_full_data()))))
    for policy in grants.custom_policies:
        for statement in policy.statements:
            if "*" in statement.resources:
                assert set(statement.actions) <= RESOURCELESS_ACTIONS, statement.sid


def _full_data() -> dict:
    import tomllib

    return tomllib.loads(FULL.read_text())


def test_vpc_endpoints_need_statement_one() -> None:
    with pytest.raises(SpecError, match=r"^s3.vpc_endpoint: must be true when vpc_endpoints.enabled: behind VPC endpoints"):
        grants_of(vpc_endpoints={"enabled": True})


def test_endpoint_service_names_follow_the_partition() -> None:
    grants = build_grants(
        spec_from_data({"version": 1, "regions": ["cn-north-1"], "s3": {"vpc_endpoint": True, "agent_buckets": "seed"},
                        "vpc_endpoints": {"enabled": True, "services": ["ssm", "s3"]}})
    )
    assert [e.service_name for e in grants.regional[0].endpoints] == ["cn.com.amazonaws.cn-north-1.ssm", "cn.com.amazonaws.cn-north-1.s3"]


def test_module_declares_one_provider_alias_per_region() -> None:
    module = generate(FULL)
    versions = module.files["versions.tf"]
    assert "configuration_aliases = [aws.us_east_1, aws.eu_central_1, aws.ap_southeast_1]" in versions
    assert 'provider "aws"' not in "".join(module.files[n] for n in module.files if n.endswith(".tf"))
    assert module.manifest.provider_aliases == {
        "us-east-1": "us_east_1", "eu-central-1": "eu_central_1", "ap-southeast-1": "ap_southeast_1"
    }


@pytest.mark.terraform
def test_plan_has_each_regional_resource_once_per_region_and_global_ones_once() -> None:
    plan = normalise_plan(plan_module(MODULES / "multi-region-full", offline=True))
    changes = plan["resource_changes"]
    regions = ["us-east-1", "eu-central-1", "ap-southeast-1"]
    regional = [c for c in changes if c["address"].split(".")[2] in ("aws_vpc_endpoint", "aws_ssm_service_setting")]
    per_kind_region = Counter(
        (c["address"].split(".")[2], c["after"].get("service_name", "setting").rsplit(".", 1)[-1], c["region"]) for c in regional
    )
    expected = Counter(
        {(kind, name, region): 1 for region in regions
         for kind, name in [("aws_ssm_service_setting", "setting"), ("aws_vpc_endpoint", "ssm"), ("aws_vpc_endpoint", "ssmmessages"),
                            ("aws_vpc_endpoint", "ec2messages"), ("aws_vpc_endpoint", "s3")]}
    )
    assert per_kind_region == expected
    for change in regional:
        alias = change["region"].replace("-", "_")
        assert change["provider"] == f"aws.{alias}"
        assert change["address"].endswith(alias)
        if "service_name" in change["after"]:
            assert f".{change['region']}." in change["after"]["service_name"]
        else:
            assert f":ssm:{change['region']}:{PLACEHOLDER_ACCOUNT}:servicesetting/" in change["after"]["setting_id"]
    global_kinds = Counter(c["address"].split(".")[2] for c in changes if c not in regional)
    assert global_kinds["aws_iam_role"] == 3 and global_kinds["aws_iam_instance_profile"] == 1
    assert all(c["provider"] == "aws" for c in changes if c not in regional)
