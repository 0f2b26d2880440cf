"""Each judge's pure parser, on output captured from the pinned tools (checkov 3.3.30,
parliament and policy_sentry from ``ssm-profile judges requirements``), trimmed to the keys
the parsers read."""

from __future__ import annotations

import json

import pytest

from ssm_profile.errors import JudgeError
from ssm_profile.judges import checkov, parliament, policy_sentry
from ssm_profile.judges.findings import Finding

# checkov --framework terraform --output json --quiet --compact on a module whose policy
# grants s3:GetObject on "*" (check entries trimmed to the keys checkov's parser reads).
CHECKOV_MODULE = json.dumps(
    {
        "check_type": "terraform",
        "results": {
            "failed_checks": [
                {"check_id": "CKV_AWS_288", "check_name": "Ensure IAM policies does not allow data exfiltration",
                 "file_path": "/main.tf", "resource": "aws_iam_policy.s3"},
                {"check_id": "CKV_AWS_355",
                 "check_name": "Ensure no IAM policies documents allow \"*\" as a statement's resource for restrictable actions",
                 "file_path": "/main.tf", "resource": "aws_iam_policy.s3"},
            ],
            "skipped_checks": [],
            "parsing_errors": [],
        },
        "summary": {"passed": 7, "failed": 2, "skipped": 0, "parsing_errors": 0, "resource_count": 1, "checkov_version": "3.3.30"},
    },
    indent=4,
)

# The same shape for a plan with a checkov:skip comment, and a file checkov could not parse;
# checkov prints a list when more than one framework report is produced.
CHECKOV_PLAN_PARTS = json.dumps(
    [
        {"check_type": "terraform_plan",
         "results": {"failed_checks": [], "skipped_checks": [
             {"check_id": "CKV_AWS_290", "resource": "module.ssm_profile.aws_iam_policy.s3"}], "parsing_errors": []},
         "summary": {"passed": 3, "failed": 0, "skipped": 1, "parsing_errors": 0}},
        {"check_type": "terraform_plan",
         "results": {"failed_checks": [], "skipped_checks": [], "parsing_errors": ["/tmp/plan.json"]},
         "summary": {"passed": 1, "failed": 0, "skipped": 0, "parsing_errors": 1}},
    ]
)

# checkov prints only a summary when the folder holds nothing it checks.
CHECKOV_NOTHING = '{"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0, "checkov_version": "3.3.30"}'

# parliament --include-community-auditors --json --minimum_severity INFO --files q.json,p.json
PARLIAMENT = """\
{"issue": "PERMISSIONS_MANAGEMENT_ACTIONS", "title": "Permissions management actions", "severity": "MEDIUM", "description": "Allows the principal to modify IAM, RAM, identity-based policies, or resource based policies.", "detail": "", "location": {"actions": ["s3:putobjectacl"], "filepath": "q.json"}}
{"issue": "RESOURCE_STAR", "title": "Unnecessary use of Resource *", "severity": "LOW", "description": "", "detail": ["s3:GetObject", "s3:PutObjectAcl"], "location": {"line": 1, "column": 38, "filepath": "q.json"}}
{"issue": "UNKNOWN_ACTION", "title": "Unknown action", "severity": "LOW", "description": "", "detail": "Unknown action s3:FlyAway", "location": {"string": "s3:FlyAway", "line": 1, "column": 81, "filepath": "p.json"}}
"""

# policy_sentry query action-table --service ssmmessages
POLICY_SENTRY_SSMMESSAGES = """\
ALL ssmmessages actions:
ssmmessages:CreateControlChannel
ssmmessages:CreateDataChannel
ssmmessages:OpenControlChannel
ssmmessages:OpenDataChannel
"""


def test_checkov_failed_checks_become_findings_by_module_address() -> None:
    assert checkov.parse(CHECKOV_MODULE) == [
        Finding("checkov (module)", "CKV_AWS_288", "aws_iam_policy.s3", "Ensure IAM policies does not allow data exfiltration"),
        Finding("checkov (module)", "CKV_AWS_355", "aws_iam_policy.s3",
                "Ensure no IAM policies documents allow \"*\" as a statement's resource for restrictable actions"),
    ]
    assert checkov.passed_checks(CHECKOV_MODULE) == 7


def test_checkov_inline_skips_and_parse_errors_are_findings_and_parts_add_up() -> None:
    findings = checkov.parse(CHECKOV_PLAN_PARTS, "checkov (plan)", "terraform_plan")
    assert [(f.judge, f.check, f.resource) for f in findings] == [
        ("checkov (plan)", "INLINE_SKIP", "aws_iam_policy.s3"),
        ("checkov (plan)", "PARSE_ERROR", ""),
    ]
    assert "CKV_AWS_290 skipped inside the module" in findings[0].message
    assert findings[1].message == "checkov could not parse /tmp/plan.json"
    assert checkov.passed_checks(CHECKOV_PLAN_PARTS) == 4


def test_checkov_summary_only_report_has_no_findings() -> None:
    assert checkov.parse(CHECKOV_NOTHING) == [] and checkov.passed_checks(CHECKOV_NOTHING) == 0


def test_checkov_output_that_is_no_json_is_a_judge_error() -> None:
    with pytest.raises(JudgeError, match=r"checkov \(terraform_plan\) printed no JSON report: 'Traceback"):
        checkov.parse("Traceback (most recent call last):\n", "checkov (plan)", "terraform_plan")


def test_parliament_findings_name_the_policy_and_its_actions() -> None:
    files = {"q.json": "aws_iam_policy.s3", "p.json": "aws_iam_role_policy.inline"}
    assert parliament.parse(PARLIAMENT, files) == [
        Finding("parliament", "PERMISSIONS_MANAGEMENT_ACTIONS", "aws_iam_policy.s3", "Permissions management actions", ("s3:putobjectacl",)),
        Finding("parliament", "RESOURCE_STAR", "aws_iam_policy.s3", "Unnecessary use of Resource *", ("s3:GetObject", "s3:PutObjectAcl")),
        Finding("parliament", "UNKNOWN_ACTION", "aws_iam_role_policy.inline", "Unknown action (Unknown action s3:FlyAway)", ("s3:FlyAway",)),
    ]
    assert parliament.parse("\n", files) == []


def test_policy_sentry_action_table_is_the_services_actions_in_lower_case() -> None:
    assert policy_sentry.parse(POLICY_SENTRY_SSMMESSAGES, "ssmmessages") == {
        "ssmmessages:createcontrolchannel",
        "ssmmessages:createdatachannel",
        "ssmmessages:opencontrolchannel",
        "ssmmessages:opendatachannel",
    }
    assert policy_sentry.parse("ALL nosuch actions:\n", "nosuch") == set()


def test_policy_sentry_findings_for_wildcards_malformed_unknown_actions_and_services() -> None:
    wanted = {
        "ssmmessages:OpenDataChannel": {"aws_iam_policy.a"},
        "ssmmessages:OpenDataChanel": {"aws_iam_policy.a", "aws_iam_policy.b"},
        "ssmmessages:*": {"aws_iam_policy.b"},
        "GetObject": {"aws_iam_policy.b"},
        "nosuch:Thing": {"aws_iam_policy.a"},
    }
    findings, services = policy_sentry.malformed(wanted)
    assert [(f.check, f.resource, f.actions) for f in findings] == [
        ("UNKNOWN_ACTION", "aws_iam_policy.b", ("GetObject",)),
        ("WILDCARD_ACTION", "aws_iam_policy.b", ("ssmmessages:*",)),
    ]
    assert services == {"nosuch": ["nosuch:Thing"], "ssmmessages": ["ssmmessages:OpenDataChanel", "ssmmessages:OpenDataChannel"]}
    known = {"ssmmessages": policy_sentry.parse(POLICY_SENTRY_SSMMESSAGES, "ssmmessages"), "nosuch": set()}
    assert [(f.check, f.resource, f.actions) for f in policy_sentry.unknown(wanted, services, known)] == [
        ("UNKNOWN_SERVICE", "aws_iam_policy.a", ("nosuch:Thing",)),
        ("UNKNOWN_ACTION", "aws_iam_policy.a", ("ssmmessages:OpenDataChanel",)),
        ("UNKNOWN_ACTION", "aws_iam_policy.b", ("ssmmessages:OpenDataChanel",)),
    ]
