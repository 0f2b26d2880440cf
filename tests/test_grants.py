"""Stage 2: the policy builder against AWS's documented rules."""

from __future__ import annotations

import json

import pytest

from conftest import grants_of
from ssm_profile.grants.build import MANAGED_POLICY_MAX_CHARS, Statement, document_size, split_to_quota

SEED_TEMPLATES = [
    "aws-ssm-{r}",
    "aws-windows-downloads-{r}",
    "amazon-ssm-{r}",
    "amazon-ssm-packages-{r}",
    "{r}-birdwatcher-prod",
    # aws-ssm-distributor-file-{r} only in af-south-1 and eu-south-1 (issue 24: seed honours where AWS uses a name)
    "aws-ssm-document-attachments-{r}",
    "patch-baseline-snapshot-{r}",
]


def all_statements(grants):
    return [s for p in grants.custom_policies for s in p.statements]


def test_core_only_spec_has_role_profile_and_core_policy_only() -> None:
    grants = grants_of()
    assert grants.role.create and grants.role.trusted_service == "ec2.amazonaws.com"
    assert grants.instance_profile is not None and grants.instance_profile.name == "SSMInstanceProfile"
    assert [p.arn for p in grants.managed_policies] == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert grants.custom_policies == ()


def test_optional_managed_policies() -> None:
    grants = grants_of(managed_policies={"directory_service": True, "cloudwatch_agent": True})
    assert [p.name for p in grants.managed_policies] == [
        "AmazonSSMManagedInstanceCore",
        "AmazonSSMDirectoryServiceAccess",
        "CloudWatchAgentServerPolicy",
    ]


def test_statement_one_is_written_out_per_region_for_the_seed_set() -> None:
    regions = ["us-east-2", "eu-west-1", "ap-southeast-2"]
    grants = grants_of(regions, s3={"vpc_endpoint": True, "agent_buckets": "seed"})
    statements = all_statements(grants)
    assert [s.sid for s in statements] == ["SSMAgentBucketsUsEast2", "SSMAgentBucketsEuWest1", "SSMAgentBucketsApSoutheast2"]
    for region, statement in zip(regions, statements, strict=False):
        assert statement.actions == ("s3:GetObject",)
        expected = sorted(f"arn:aws:s3:::{t.format(r=region)}/*" for t in SEED_TEMPLATES)
        assert list(statement.resources) == expected


def test_no_wildcard_anywhere() -> None:
    grants = grants_of(
        ["us-east-1", "us-west-2"], s3={"vpc_endpoint": True, "buckets": [{"name": "b-one", "encrypted": True, "cross_account": True}]}
    )
    for statement in all_statements(grants):
        assert "*" not in statement.actions
        for resource in statement.resources:
            assert resource != "*"
            bucket = resource.removeprefix("arn:aws:s3:::").removesuffix("/*")
            assert "*" not in bucket and "?" not in bucket


def test_own_bucket_flags_do_not_widen_each_other() -> None:
    grants = grants_of(
        s3={
            "buckets": [
                {"name": "plain-bucket"},
                {"name": "cross-bucket", "cross_account": True},
                {"name": "sealed-bucket", "encrypted": True},
            ]
        }
    )
    by_action: dict[str, set[str]] = {}
    for statement in all_statements(grants):
        for action in statement.actions:
            by_action.setdefault(action, set()).update(statement.resources)
    assert by_action == {
        "s3:GetObject": {"arn:aws:s3:::plain-bucket/*", "arn:aws:s3:::cross-bucket/*", "arn:aws:s3:::sealed-bucket/*"},
        "s3:PutObject": {"arn:aws:s3:::plain-bucket/*", "arn:aws:s3:::cross-bucket/*", "arn:aws:s3:::sealed-bucket/*"},
        "s3:PutObjectAcl": {"arn:aws:s3:::cross-bucket/*"},
        "s3:GetEncryptionConfiguration": {"arn:aws:s3:::sealed-bucket"},
    }


def test_existing_role_gets_no_role_but_a_profile() -> None:
    grants = grants_of(role={"name": "Existing", "create": False})
    assert grants.role.create is False
    assert grants.instance_profile is not None and grants.instance_profile.name == "Existing"


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("eu-west-1", "aws")]
)
def test_arns_use_the_partition(region: str, partition: str) -> None:
    grants = grants_of([region], s3={"vpc_endpoint": True, "agent_buckets": "seed", "buckets": [{"name": "mine-bucket"}]})
    assert grants.partition.id == partition
    assert all(p.arn.startswith(f"arn:{partition}:iam::aws:policy/") for p in grants.managed_policies)
    for statement in all_statements(grants):
        assert all(r.startswith(f"arn:{partition}:s3:::") for r in statement.resources)


def test_split_to_quota_keeps_every_grant_and_each_part_under_the_limit() -> None:
    statements = [
        Statement(f"S{i}", ("s3:GetObject",), tuple(f"arn:aws:s3:::bucket-{i}-{j}/*" for j in range(40)))
        for i in range(12)
    ]
    parts = split_to_quota(statements, limit=3000)
    assert len(parts) > 1
    assert all(document_size(part) <= 3000 for part in parts)
    assert [r for part in parts for s in part for r in s.resources] == [r for s in statements for r in s.resources]
    assert split_to_quota(statements, limit=3000) == parts


def test_a_statement_larger_than_the_limit_is_cut_by_resource() -> None:
    big = Statement("Big", ("s3:GetObject",), tuple(f"arn:aws:s3:::bucket-name-{j:03d}/*" for j in range(300)))
    parts = split_to_quota([big])
    assert all(document_size(part) <= MANAGED_POLICY_MAX_CHARS for part in parts)
    sids = [s.sid for part in parts for s in part]
    assert sids[0] == "Big" and sids[1] == "BigPart2"
    assert sorted(r for part in parts for s in part for r in s.resources) == sorted(big.resources)


def test_policy_document_is_valid_iam_json() -> None:
    grants = grants_of(s3={"buckets": [{"name": "b-one"}]})
    document = grants.custom_policies[0].document()
    assert document["Version"] == "2012-10-17"
    assert json.loads(json.dumps(document)) == document
    assert grants.custom_policies[0].size == len(json.dumps(document, separators=(",", ":")))
