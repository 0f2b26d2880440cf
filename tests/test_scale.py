"""Correct at any scale: every Region of every supported partition, IAM's size limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plan_state import plan_offline
from ssm_profile import generate, write_module
from ssm_profile.aws.agent_buckets import catalog
from ssm_profile.aws.partitions import partitions
from ssm_profile.grants.build import MANAGED_POLICY_MAX_CHARS

# Test input, not catalog data: suffixes a user would supply for the Regions AWS documents none for.
USER_SUFFIXES = {"patch_manager": "0a1b2c3d4", "patch_baseline_snapshot": ""}


def every_region_spec(partition: str, bucket_set: str) -> dict:
    regions = list(partitions()[partition].regions)
    missing = [r for r in regions if r not in catalog()["region_suffixes"]]
    return {
        "version": 1,
        "regions": regions,
        "role": {"name": f"SSM-{partition}"},
        "managed_policies": {"directory_service": True, "cloudwatch_agent": True},
        "s3": {
            "vpc_endpoint": True,
            "agent_buckets": bucket_set,
            "agent_bucket_suffixes": {r: USER_SUFFIXES for r in missing} if bucket_set != "seed" else {},
            "buckets": [{"name": f"own-bucket-{i}", "encrypted": i % 2 == 0, "cross_account": i % 3 == 0} for i in range(10)],
        },
    }


def test_every_aws_region_with_all_buckets_splits_under_the_limit() -> None:
    module = generate(every_region_spec("aws", "all"))
    policies = module.grants.custom_policies
    assert len(policies) > 1
    assert [p.name for p in policies] == ["SSMInstanceProfileS3Policy"] + [
        f"SSMInstanceProfileS3Policy-{i}" for i in range(2, len(policies) + 1)
    ]
    assert all(p.size <= MANAGED_POLICY_MAX_CHARS for p in policies)
    sids = [s.sid for p in policies for s in p.statements]
    assert len(sids) == len(set(sids))
    regions = [s.sid for s in (s for p in policies for s in p.statements) if s.sid.startswith("SSMAgentBuckets")]
    assert len(regions) == len(partitions()["aws"].regions)


def planned_policies(plan: dict) -> list[str]:
    return [c["change"]["after"]["policy"] for c in plan["resource_changes"] if c["type"] == "aws_iam_policy"]


@pytest.mark.terraform
@pytest.mark.slow
@pytest.mark.parametrize(
    ("partition", "bucket_set"), [("aws", "all"), ("aws", "seed"), ("aws-cn", "seed"), ("aws-us-gov", "current")]
)
def test_every_region_of_a_partition_plans_offline(tmp_path: Path, partition: str, bucket_set: str) -> None:
    module = generate(every_region_spec(partition, bucket_set))
    write_module(module, tmp_path / "module")
    plan = plan_offline(tmp_path / "module")
    policies = planned_policies(plan)
    assert len(policies) == len(module.grants.custom_policies)
    for text in policies:
        assert len("".join(text.split())) <= MANAGED_POLICY_MAX_CHARS
    planned = {
        (a, r)
        for text in policies
        for s in json.loads(text)["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    expected = {
        (a, r)
        for p in module.grants.custom_policies
        for s in p.statements
        for a in s.actions
        for r in s.resources
    }
    assert planned == expected
    for region in partitions()[partition].regions:
        assert any(f"-{region}" in r or f"{region}-" in r for _, r in planned), region


def test_session_manager_policy_splits_under_the_limit_in_every_region() -> None:
    data = every_region_spec("aws", "seed")
    data["session_manager"] = {
        "enabled": True,
        "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "s3_log_bucket": "org-ssm-session-logs",
        "s3_log_encrypted": True,
        "cloudwatch_log_group": "/aws/ssm/session-manager/organisation-wide-session-logs",
    }
    data["managed_policies"]["instance_core"] = False
    data["limits"] = {"managed_policies_per_role": 20}
    module = generate(data)
    session = [p for p in module.grants.custom_policies if p.key.startswith("session_manager")]
    assert len(session) > 1
    assert [p.name for p in session] == ["SSMSessionManagerPolicy"] + [f"SSMSessionManagerPolicy-{i}" for i in range(2, len(session) + 1)]
    assert all(p.size <= MANAGED_POLICY_MAX_CHARS for p in session)
    granted = [r for p in session for s in p.statements if "logs:PutLogEvents" in s.actions for r in s.resources]
    assert len(granted) == 2 * len(partitions()["aws"].regions)
