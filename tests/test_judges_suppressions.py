"""The suppressions file and the verdicts suppressions make: :mod:`ssm_profile.judges.suppressions`
and :mod:`ssm_profile.judges.findings`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GENERATED_MODULES, JUSTIFIED, MODULES, SHIPPED_SUPPRESSIONS
from ssm_profile import SpecError
from ssm_profile.judges.findings import NEVER_SUPPRESSED, Finding, Suppression, apply_suppressions
from ssm_profile.judges.suppressions import (
    SUPPRESSIONS_FILE,
    find_suppressions_file,
    load_suppressions,
    shipped_suppressions,
    suppressions_for,
)


def write_suppressions(tmp_path: Path, text: str) -> Path:
    path = tmp_path / SUPPRESSIONS_FILE
    path.write_text(text, encoding="utf-8")
    return path


ACL_FINDING = Finding("parliament", "PERMISSIONS_MANAGEMENT_ACTIONS", "aws_iam_policy.s3", "Permissions management actions", ("s3:putobjectacl",))


# --- the suppressions file ------------------------------------------------------------------


def test_shipped_suppressions_are_few_justified_and_never_about_wildcards() -> None:
    rules = shipped_suppressions()
    assert rules == load_suppressions(SHIPPED_SUPPRESSIONS)
    assert 0 < len(rules) <= 3
    for rule in rules:
        assert rule.check not in NEVER_SUPPRESSED[rule.judge]
        assert len(rule.justification.split()) >= 20
        assert rule.resource not in ("*", "")


def test_the_shipped_suppressions_apply_to_every_module_and_a_users_file_adds_to_them(tmp_path: Path) -> None:
    for name in GENERATED_MODULES:
        assert find_suppressions_file(MODULES / name) is None
        assert suppressions_for(find_suppressions_file(MODULES / name)) == shipped_suppressions()
    users = write_suppressions(
        tmp_path,
        '[[suppression]]\njudge = "checkov"\ncheck = "CKV_AWS_X"\nscope = { resource = "aws_iam_role.this" }\n' + JUSTIFIED + "\n",
    )
    combined = suppressions_for(users)
    assert combined[: len(shipped_suppressions())] == shipped_suppressions()
    assert [r.check for r in combined[len(shipped_suppressions()) :]] == ["CKV_AWS_X"]


def test_a_suppression_covers_only_its_judge_check_resource_and_actions() -> None:
    (rule,) = load_suppressions(SHIPPED_SUPPRESSIONS)
    assert rule.covers(ACL_FINDING)
    wider = Finding(ACL_FINDING.judge, ACL_FINDING.check, ACL_FINDING.resource, "", ("s3:putbucketacl", "s3:putobjectacl"))
    other_check = Finding("parliament", "CREDENTIALS_EXPOSURE", "aws_iam_policy.s3", "", ("s3:putobjectacl",))
    other_resource = Finding("parliament", ACL_FINDING.check, "aws_iam_role_policy.inline", "", ("s3:putobjectacl",))
    no_actions = Finding("parliament", ACL_FINDING.check, "aws_iam_policy.s3", "")
    assert not any(rule.covers(f) for f in (wider, other_check, other_resource, no_actions))


def test_unsuppressed_findings_fail_and_suppressed_ones_are_counted() -> None:
    rules = load_suppressions(SHIPPED_SUPPRESSIONS)
    star = Finding("parliament", "RESOURCE_STAR", "aws_iam_policy.s3", "Unnecessary use of Resource *", ("s3:putobject",))
    verdict = apply_suppressions("parliament", "1 policy", [ACL_FINDING, star], rules)
    assert verdict.findings == (star,)
    assert [f for f, _ in verdict.suppressed] == [ACL_FINDING]
    assert not verdict.ok and "FAILED" in verdict.summary() and "1 suppressed" in verdict.summary()
    assert apply_suppressions("parliament", "1 policy", [ACL_FINDING], ()).findings == (ACL_FINDING,)


def test_a_wildcard_finding_fails_even_under_a_suppression_built_in_code() -> None:
    rule = Suppression("parliament", "RESOURCE_STAR", "aws_iam_policy.*", "made up in code to get around the file check")
    star = Finding("parliament", "RESOURCE_STAR", "aws_iam_policy.s3", "Unnecessary use of Resource *", ("s3:putobject",))
    assert apply_suppressions("parliament", "1 policy", [star], [rule]).findings == (star,)


@pytest.mark.parametrize(
    ("entry", "field", "says"),
    [
        ('judge = "parliament"\ncheck = "RESOURCE_STAR"\nscope = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED, "check", "cannot be suppressed"),
        ('judge = "checkov"\ncheck = "CKV_AWS_355"\nscope = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED, "check", "cannot be suppressed"),
        ('judge = "parliament"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3" }\njustification = "because"', "justification", "at least"),
        ('judge = "parliament"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3" }', "justification", "required"),
        ('judge = "tfsec"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED, "judge", "allowed: checkov"),
        ('judge = "parliament"\ncheck = "X"\nscope = { resource = "*" }\n' + JUSTIFIED, "scope.resource", "not *"),
        ('judge = "parliament"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3", actions = ["s3:*"] }\n' + JUSTIFIED, "scope.actions", "without wildcards"),
        ('judge = "parliament"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3", action = "s3:GetObject" }\n' + JUSTIFIED, "scope.action", "unknown key"),
        ('judge = "parliament"\ncheck = "X"\nscop = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED, "scop", "unknown key"),
    ],
)
def test_a_bad_suppression_is_a_spec_error_naming_the_field(tmp_path: Path, entry: str, field: str, says: str) -> None:
    path = write_suppressions(tmp_path, f"[[suppression]]\n{entry}\n")
    with pytest.raises(SpecError) as raised:
        load_suppressions(path)
    assert f"suppression[0].{field}" in str(raised.value) and says in str(raised.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x = 1\n", "x: unknown key; allowed: suppression"),
        ("suppression = 3\n", "suppression: expected array, got int"),
        ('[[suppression]]\njudge = 3\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED + "\n",
         "suppression[0].judge: expected str, got int"),
        ('[[suppression]]\njudge = "parliament"\ncheck = "X"\nscope = { resource = "aws_iam_policy.s3", actions = [1] }\n' + JUSTIFIED + "\n",
         "suppression[0].scope.actions[0]: expected str, got int"),
        ("[[suppression]]\njudge = \n", "not valid TOML"),
    ],
)
def test_the_shape_of_the_file_is_checked_with_the_field_path_in_one_line(tmp_path: Path, text: str, says: str) -> None:
    path = write_suppressions(tmp_path, text)
    with pytest.raises(SpecError) as raised:
        load_suppressions(path)
    assert str(raised.value).startswith(f"{path}: {says}") and "\n" not in str(raised.value)
