"""Regional setup: global IAM once, regional resources once per Region on that Region's provider."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import DOC_ACCOUNT, EXAMPLES, MODULES, cached_plan, grants_of
from ssm_profile import SpecError, generate
from ssm_profile.grants.build import ACCOUNT, RESOURCELESS_ACTIONS, build_grants
from ssm_profile.spec.load import spec_from_data
from ssm_profile.terraform.harness import normalise_plan

FULL = EXAMPLES["multi-region-full"]


#: The two Regions of the inline specs here: one of them (us-east-1) is special in places.
TWO_REGIONS = ("us-east-1", "eu-west-1")


def test_default_host_management_role_and_setting_per_region() -> None:
    grants = grants_of(TWO_REGIONS, default_host_management={"enabled": True})
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
    grants = grants_of(TWO_REGIONS, hybrid={"enabled": True}, s3={"buckets": [{"name": "mine-bucket"}]})
    (role,) = grants.service_roles
    conditions = {c.variable: (c.test, c.values) for c in role.conditions}
    assert conditions == {
        "aws:SourceAccount": ("StringEquals", (ACCOUNT,)),
        "aws:SourceArn": ("ArnLike", (f"arn:aws:ssm:us-east-1:{ACCOUNT}:*", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:*")),
    }
    assert [p.name for p in role.managed_policies] == ["AmazonSSMManagedInstanceCore"]
    assert role.custom_policy_keys == ("s3",)


def test_session_manager_grants_only_what_is_configured() -> None:
    assert grants_of(TWO_REGIONS, session_manager={"enabled": True}).custom_policies == ()
    grants = grants_of(TWO_REGIONS, session_manager={"enabled": True, "kms_key_arn": {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234"}})
    (policy,) = grants.custom_policies
    assert [(s.actions, s.resources) for s in policy.statements] == [
        (("kms:Decrypt",), ("arn:aws:kms:us-east-1:111122223333:key/abcd-1234",))
    ]


def test_session_manager_without_core_adds_the_documented_minimum() -> None:
    grants = grants_of(TWO_REGIONS, managed_policies={"instance_core": False}, session_manager={"enabled": True})
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
        grants_of(TWO_REGIONS, vpc_endpoints={"enabled": True})


def test_china_endpoint_service_names_come_from_the_catalog_per_service() -> None:
    # In China, Systems Manager's interface endpoints and the S3 gateway are com.amazonaws.<region>.*;
    # only some interface services (AWS CDK's table: ec2, sts, ecr ... and the S3 *interface*) are cn.com.amazonaws.
    grants = grants_of(
        ["cn-north-1", "cn-northwest-1"],
        s3={"vpc_endpoint": True, "agent_buckets": "seed"},
        session_manager={"enabled": True, "cloudwatch_log_group": "/ssm",
                         "kms_key_arn": "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef"},
        vpc_endpoints={"enabled": True},
    )
    for setup in grants.regional:
        names = {e.service: (e.service_name, e.kind) for e in setup.endpoints}
        r = setup.region
        assert names == {
            "ssm": (f"com.amazonaws.{r}.ssm", "Interface"), "ssmmessages": (f"com.amazonaws.{r}.ssmmessages", "Interface"),
            "ec2messages": (f"com.amazonaws.{r}.ec2messages", "Interface"), "s3": (f"com.amazonaws.{r}.s3", "Gateway"),
            "kms": (f"com.amazonaws.{r}.kms", "Interface"), "logs": (f"com.amazonaws.{r}.logs", "Interface"),
        }


def test_endpoint_prefix_is_data_per_service_and_region() -> None:
    from ssm_profile.aws import agent_buckets as catalog

    table = catalog.catalog()["endpoint_services"]
    assert "github:aws/aws-cdk" in table["source"]
    # s3 is in CDK's China list (its interface endpoint), but ssm-profile's s3 endpoint is the gateway.
    assert "s3" in table["reversed_prefix"]["cn-north-1"]["interface_services"]
    assert catalog.endpoint_service_name("s3", "cn-north-1") == "com.amazonaws.cn-north-1.s3"
    assert catalog.endpoint_service_name("ssm", "cn-north-1") == "com.amazonaws.cn-north-1.ssm"
    assert catalog.endpoint_service_name("ssm", "us-gov-west-1") == "com.amazonaws.us-gov-west-1.ssm"
    for region in ("cn-north-1", "cn-northwest-1"):
        assert not {"ssm", "ssmmessages", "ec2messages", "kms", "logs"} & set(table["reversed_prefix"][region]["interface_services"])


def test_default_endpoints_follow_what_the_spec_needs() -> None:
    keys = {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    grants = grants_of(TWO_REGIONS, s3={"vpc_endpoint": True}, vpc_endpoints={"enabled": True},
                       session_manager={"enabled": True, "kms_key_arn": keys, "cloudwatch_log_group": "/ssm/sessions"})
    assert {s.region: [e.service for e in s.endpoints] for s in grants.regional} == {
        "us-east-1": ["ssm", "ssmmessages", "ec2messages", "s3", "kms", "logs"],
        "eu-west-1": ["ssm", "ssmmessages", "ec2messages", "s3", "logs"],
    }
    assert grants.warnings == ()
    plain = grants_of(TWO_REGIONS, s3={"vpc_endpoint": True}, vpc_endpoints={"enabled": True})
    assert [e.service for e in plain.regional[0].endpoints] == ["ssm", "ssmmessages", "ec2messages", "s3"]


def test_an_explicit_endpoint_list_missing_a_needed_service_warns() -> None:
    grants = grants_of(TWO_REGIONS, s3={"vpc_endpoint": True}, vpc_endpoints={"enabled": True, "services": ["ssm", "ssmmessages", "ec2messages", "s3", "kms"]},
                       session_manager={"enabled": True, "cloudwatch_log_group": "/ssm/sessions"})
    assert [e.service for e in grants.regional[0].endpoints] == ["ssm", "ssmmessages", "ec2messages", "s3", "kms"]
    (warning,) = grants.warnings
    assert warning.startswith("vpc_endpoints.services: leaves out logs, which this spec needs in us-east-1, eu-west-1 (session logs to CloudWatch Logs")


def test_s3_log_kms_key_grants_decrypt_and_generate_data_key_on_exactly_that_key() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    grants = grants_of(TWO_REGIONS, session_manager={"enabled": True, "s3_log_bucket": "session-logs", "s3_log_encrypted": True, "s3_log_kms_key_arn": key})
    statements = {s.sid: s for p in grants.custom_policies for s in p.statements}
    # re:Post knowledge center s3-large-file-encryption-kms-key: multipart uploads also need kms:Decrypt.
    assert (statements["SessionManagerS3LogsKms"].actions, statements["SessionManagerS3LogsKms"].resources) == (("kms:Decrypt", "kms:GenerateDataKey"), (key,))
    # SSE-S3 (no key): today's grants, no KMS action at all; the module README says why.
    sse_s3 = grants_of(TWO_REGIONS, session_manager={"enabled": True, "s3_log_bucket": "session-logs", "s3_log_encrypted": True})
    assert not [a for p in sse_s3.custom_policies for s in p.statements for a in s.actions if a.startswith("kms:")]
    readme = generate({"version": 1, "regions": ["us-east-1"], "session_manager": {"enabled": True, "s3_log_bucket": "session-logs", "s3_log_encrypted": True}}).files["README.md"]
    assert "without `s3_log_kms_key_arn` no KMS action is granted, which is right for SSE-S3" in readme


@pytest.mark.parametrize(("session", "message"), [
    ({"s3_log_kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/abcd"}, "session_manager.s3_log_bucket: is required when"),
    ({"s3_log_bucket": "logs-bucket", "s3_log_kms_key_arn": "arn:aws:kms:us-east-1:111122223333:alias/logs"}, "session_manager.s3_log_kms_key_arn: 'arn:aws:kms:us-east-1:111122223333:alias/logs' is not a KMS key ARN"),
    ({"kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/abcd-1234"}, "session_manager.kms_key_arn: 'arn:aws:kms:us-east-1:111122223333:key/abcd-1234' is a single-Region key, but the spec has 2 Regions"),
    ({"kms_key_arn": {"us-west-2": "arn:aws:kms:us-west-2:111122223333:key/abcd"}}, "session_manager.kms_key_arn[\"us-west-2\"]: 'us-west-2' is not one of the spec's regions"),
    ({"kms_key_arn": {"eu-west-1": "arn:aws:kms:us-east-1:111122223333:key/abcd"}}, "session_manager.kms_key_arn[\"eu-west-1\"]: 'arn:aws:kms:us-east-1:111122223333:key/abcd' is a key of us-east-1; the key for eu-west-1 must be in eu-west-1"),
    ({"kms_key_arn": {"eu-west-1": "not-an-arn"}}, "session_manager.kms_key_arn[\"eu-west-1\"]: 'not-an-arn' is not a KMS key ARN of partition aws"),
])
def test_session_key_errors_name_the_field_and_the_ways_out(session: dict, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        grants_of(TWO_REGIONS, session_manager={"enabled": True, **session})
    assert str(caught.value).startswith(message)
    if "single-Region" in message:
        assert "table keyed by Region" in str(caught.value) and "multi-Region key (key/mrk-...)" in str(caught.value)


def test_multi_region_key_is_granted_on_its_replica_in_every_region() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    grants = grants_of(TWO_REGIONS, session_manager={"enabled": True, "kms_key_arn": key})
    (statement,) = [s for p in grants.custom_policies for s in p.statements]
    assert statement.resources == (key, "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab")


def test_kms_key_table_grants_each_region_its_own_key() -> None:
    keys = {"eu-west-1": "arn:aws:kms:eu-west-1:111122223333:key/bbbb", "us-east-1": "arn:aws:kms:us-east-1:111122223333:key/aaaa"}
    grants = grants_of(TWO_REGIONS, session_manager={"enabled": True, "kms_key_arn": keys})
    (statement,) = [s for p in grants.custom_policies for s in p.statements]
    assert statement.resources == (keys["us-east-1"], keys["eu-west-1"])


def test_hybrid_role_always_gets_the_core_policy() -> None:
    grants = grants_of(TWO_REGIONS, hybrid={"enabled": True}, managed_policies={"instance_core": False, "cloudwatch_agent": True})
    assert [p.name for p in grants.managed_policies] == ["CloudWatchAgentServerPolicy"]
    (role,) = grants.service_roles
    assert [p.arn for p in role.managed_policies] == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
    ]


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
    plan = normalise_plan(cached_plan(MODULES / "multi-region-full"))
    changes = plan["resource_changes"]
    regions = ["us-east-1", "eu-central-1", "ap-southeast-1"]
    regional = [c for c in changes if c["address"].split(".")[2] in ("aws_vpc_endpoint", "aws_ssm_service_setting")]
    per_kind_region = Counter(
        (c["address"].split(".")[2], c["after"].get("service_name", "setting").rsplit(".", 1)[-1], c["region"]) for c in regional
    )
    expected = Counter(
        {(kind, name, region): 1 for region in regions
         for kind, name in [("aws_ssm_service_setting", "setting"), ("aws_vpc_endpoint", "ssm"), ("aws_vpc_endpoint", "ssmmessages"),
                            ("aws_vpc_endpoint", "ec2messages"), ("aws_vpc_endpoint", "s3"), ("aws_vpc_endpoint", "kms"),
                            ("aws_vpc_endpoint", "logs")]}
    )
    assert per_kind_region == expected
    for change in regional:
        alias = change["region"].replace("-", "_")
        assert change["provider"] == f"aws.{alias}"
        assert change["address"].endswith(alias)
        if "service_name" in change["after"]:
            assert f".{change['region']}." in change["after"]["service_name"]
        else:
            assert f":ssm:{change['region']}:{DOC_ACCOUNT}:servicesetting/" in change["after"]["setting_id"]
    global_kinds = Counter(c["address"].split(".")[2] for c in changes if c not in regional)
    assert global_kinds["aws_iam_role"] == 3 and global_kinds["aws_iam_instance_profile"] == 1
    assert all(c["provider"] == "aws" for c in changes if c not in regional)
