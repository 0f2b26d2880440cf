"""Reading the plan the judges check: :mod:`ssm_profile.judges.plan`."""

from __future__ import annotations

import json

from ssm_profile.judges.plan import permission_policies, policy_actions


def test_permission_policies_come_from_the_plan_by_module_address() -> None:
    plan = {"resource_changes": [
        {"address": "module.ssm_profile.aws_iam_policy.s3", "type": "aws_iam_policy", "mode": "managed",
         "change": {"actions": ["create"], "after": {"policy": json.dumps({"Version": "2012-10-17", "Statement": []})}, "after_unknown": {}}},
    ]}
    plan["resource_changes"] += [
        {"address": "module.ssm_profile.aws_iam_policy.later", "type": "aws_iam_policy", "mode": "managed",
         "change": {"actions": ["create"], "after": {}, "after_unknown": {"policy": True}}},
        {"address": "module.ssm_profile.aws_iam_policy.gone", "type": "aws_iam_policy", "mode": "managed",
         "change": {"actions": ["delete"], "after": None, "after_unknown": {}}},
        {"address": "module.ssm_profile.aws_iam_role.this", "type": "aws_iam_role", "mode": "managed",
         "change": {"actions": ["create"], "after": {"assume_role_policy": "{}"}, "after_unknown": {}}},
    ]
    known, unknown = permission_policies(plan)
    assert list(known) == ["aws_iam_policy.s3"] and unknown == ["aws_iam_policy.later"]


def test_policy_actions_reads_action_and_not_action_of_one_or_many_statements() -> None:
    assert policy_actions({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}) == ["s3:GetObject"]
    document = {"Statement": [{"Action": ["ssm:GetParameter", "kms:Decrypt"]}, {"Effect": "Deny", "NotAction": "iam:*"}]}
    assert policy_actions(document) == ["ssm:GetParameter", "kms:Decrypt", "iam:*"]
