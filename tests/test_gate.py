"""``ssm-profile check`` is the one gate (issue 25), tried as a user would: a module generated
into a folder of their own, the installed command run as a subprocess, real Terraform, the
real judges. A hand edit, a failed assertion of the module's own tests and a judge that
checked nothing can no longer read as "check ok"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MODULES, run
from ssm_profile.terraform.module_tests import FailedAssertion, TestOutcome, read_test_output
from ssm_profile.terraform.providers import ProviderSources

SSM_PROFILE = str(Path(sys.executable).with_name("ssm-profile"))

#: A spec whose Session Manager policy streams session logs to CloudWatch Logs in one Region:
#: the policy names ``arn:aws:logs:us-east-2:<account>:log-group:...`` (AWS's ARN format for
#: log groups, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
SESSION_LOGS_SPEC = 'version = 1\nregions = ["us-east-2"]\n[session_manager]\nenabled = true\ncloudwatch_log_group = "/aws/ssm/sessions"\n'
BASIC_SPEC = 'version = 1\nregions = ["us-east-2"]\n'


def ssm_profile(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``ssm-profile ARGS`` as a user runs it, in ``cwd``."""
    return subprocess.run([SSM_PROFILE, *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)


def repository(tmp_path: Path, *modules: tuple[str, str, str]) -> Path:
    """A user's repository: specs/<name>.toml, and modules/<name> generated from it with ``flags``."""
    for name, spec, flags in modules:
        (tmp_path / "specs").mkdir(exist_ok=True)
        (tmp_path / "specs" / f"{name}.toml").write_text(spec, encoding="utf-8")
        done = ssm_profile(tmp_path, "generate", f"specs/{name}.toml", "-o", f"modules/{name}", *flags.split())
        assert done.returncode == 0, done.stderr
    return tmp_path


@pytest.fixture(scope="module")
def wildcard_region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose module had a wildcard Region hand-edited into its policy."""
    repo = repository(tmp_path_factory.mktemp("repo"), ("prod", SESSION_LOGS_SPEC, ""))
    main = repo / "modules" / "prod" / "main.tf"
    text = main.read_text(encoding="utf-8")
    assert "arn:aws:logs:us-east-2:" in text
    main.write_text(text.replace("arn:aws:logs:us-east-2:", "arn:aws:logs:*:"), encoding="utf-8")
    return repo


# The error_message of the generated Region assertion (render/tftest.py writes it for each custom policy).
WILDCARD_REGION = 'tests/module.tftest.hcl: run "least_privilege_and_wiring": SSMSessionManagerPolicy has a wildcard Region in an ARN.'


@pytest.mark.terraform
def test_check_fails_on_a_hand_edited_wildcard_region_naming_the_file_and_the_assertion(wildcard_region: Path) -> None:
    done = ssm_profile(wildcard_region, "check", "modules/prod", "--skip", "judges")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "modules/prod: drift: FAILED: does not match its spec ../../specs/prod.toml" in out
    assert "  main.tf: edited by hand (no longer the SHA-256 its manifest records)" in out
    assert "  move the edits into the spec, then regenerate over them: ssm-profile generate specs/prod.toml -o modules/prod --force" in out
    assert re.search(r"^modules/prod: terraform test: FAILED: \d+ passed, 1 failed \(", out, re.M), out
    assert f"  {WILDCARD_REGION}" in out
    assert "check ok" not in out
    assert "ssm-profile: error: modules/prod: drifted from its spec; " in done.stderr
    assert f"terraform test: {WILDCARD_REGION}" in done.stderr


@pytest.mark.terraform
def test_test_exits_1_on_a_failed_assertion_naming_it(wildcard_region: Path) -> None:
    done = ssm_profile(wildcard_region, "test", "modules/prod")
    assert done.returncode == 1, done.stdout + done.stderr  # a failed check, not "Terraform failed" (3)
    assert WILDCARD_REGION in done.stderr.splitlines()[-1]


@pytest.mark.terraform
def test_judges_of_a_json_module_check_something_or_say_not_applicable(tmp_path: Path) -> None:
    repo = repository(tmp_path, ("sessions", SESSION_LOGS_SPEC, "--format json"), ("basic", BASIC_SPEC, "--format json"))
    done = ssm_profile(repo, "check", "modules/sessions", "modules/basic")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    judged = {(m[1], m[2]): m[3] for line in lines if (m := re.match(r"^modules/(\w+): (checkov \(module\)|checkov \(plan\)|parliament|policy_sentry): ([^:]+)", line))}
    assert len(judged) == 8, lines
    # checkov reads Terraform JSON with its terraform_json framework: it runs checks.
    for name in ("sessions", "basic"):
        checked = next(line for line in lines if line.startswith(f"modules/{name}: checkov (module): "))
        assert int(re.search(r"ok: (\d+) checks passed", checked)[1]) > 0, checked
    # The basic module creates no policy of its own: parliament and policy_sentry have nothing to read.
    assert judged["basic", "parliament"] == judged["basic", "policy_sentry"] == "not applicable"
    assert judged["sessions", "parliament"] == judged["sessions", "policy_sentry"] == "ok"
    assert not any(re.search(r": ok: 0 (checks|policies|actions)", line) for line in lines), lines
    assert any(line.startswith("modules/sessions: terraform test: ok: 1 passed, 0 failed (") for line in lines), lines
    assert any(line.startswith("modules/sessions: drift: ok: matches its spec ../../specs/sessions.toml (") for line in lines), lines


# --- without Terraform ------------------------------------------------------------------------


def test_skip_takes_only_the_steps_it_names(tmp_path: Path) -> None:
    code, _, err = run("check", str(tmp_path), "--skip", "drift,judge")
    assert code == 2 and err == "ssm-profile: error: --skip: 'judge' is not a step check can skip; allowed: drift, tests, judges\n"


def test_terraform_test_json_is_read_as_runs_and_failed_assertions() -> None:
    # Messages as terraform 1.11 `test -json` prints them (trimmed), after stderr's text warnings.
    messages = [
        {"type": "diagnostic", "@testfile": "tests/module.tftest.hcl", "@testrun": "least_privilege_and_wiring",
         "diagnostic": {"severity": "error", "summary": "Test assertion failed", "detail": "P has a wildcard Region in an ARN."}},
        {"type": "test_summary", "@message": "Failure! 1 passed, 1 failed.",
         "test_summary": {"status": "fail", "passed": 1, "failed": 1, "errored": 0, "skipped": 0}},
    ]
    output = "Warning: Unable to open CLI configuration file\n" + "\n".join(map(json.dumps, messages))
    outcome, errored = read_test_output(output)
    assert errored == 0 and outcome == TestOutcome(
        1, 1, (FailedAssertion("tests/module.tftest.hcl", "least_privilege_and_wiring", "P has a wildcard Region in an ARN."),),
        "Failure! 1 passed, 1 failed.",
    )
    assert read_test_output("Error: Failed to load plugin schemas\n") == (None, 0)


class PlanOnlyRunner:
    """A TerraformRunner whose plan changes nothing: the plan command's own words are under test."""

    name = "terraform"
    concurrent_steps = False

    def __init__(self) -> None:
        self.providers = ProviderSources("terraform")

    def init(self, workdir: Path) -> None:
        pass

    def validate(self, workdir: Path) -> None:
        pass

    def plan(self, workdir: Path, plan_file: str) -> None:
        return None

    def show(self, workdir: Path, plan_file: str) -> dict:
        return {"resource_changes": []}

    def version(self) -> str:
        return "1.11.0-fake"


def test_a_plan_with_placeholder_inputs_says_so_once_on_stderr(tmp_path: Path) -> None:
    # all-options needs account_id and vpc_endpoint_network; basic needs no input.
    code, out, err = run("plan", str(MODULES / "all-options"), str(MODULES / "basic"), runner=PlanOnlyRunner())
    assert code == 0 and "111122223333" not in out
    assert err.count("warning") == 1 and err.startswith(
        "ssm-profile: warning: the plan uses placeholder values for account_id, vpc_endpoint_network (no --var-file given); "
        "every ARN shows the placeholder account 111122223333 (AWS's documentation account), not yours\n"
    )
    var_file = tmp_path / "dev.tfvars.json"
    var_file.write_text('{"account_id": "444455556666"}', encoding="utf-8")
    code, _, err = run("plan", str(MODULES / "all-options"), "--var-file", str(var_file), runner=PlanOnlyRunner())
    assert code == 0 and err.startswith(
        "ssm-profile: warning: the plan uses placeholder values for vpc_endpoint_network (the --var-file does not set them)\n"
    )
    code, _, err = run("plan", str(MODULES / "basic"), runner=PlanOnlyRunner())
    assert code == 0 and "warning" not in err


def test_a_modules_test_files_run_apart_and_add_up(tmp_path: Path) -> None:
    from ssm_profile.terraform.module_tests import merged, module_test_files

    (tmp_path / "tests").mkdir()
    # Modules of 0.2.0 had two files (wiring and policies); this version writes one.
    for name in ("wiring.tftest.hcl", "policies.tftest.hcl", "notes.md"):
        (tmp_path / "tests" / name).write_text("", encoding="utf-8")
    assert module_test_files(tmp_path) == ("tests/policies.tftest.hcl", "tests/wiring.tftest.hcl")
    failure = FailedAssertion("tests/module.tftest.hcl", "least_privilege_and_wiring", "P has a wildcard Region in an ARN.")
    both = merged([TestOutcome(0, 1, (failure,), "Failure! 0 passed, 1 failed.", 3.0), TestOutcome(1, 0, (), "Success! 1 passed, 0 failed.", 5.0)])
    assert both == TestOutcome(1, 1, (failure,), "Failure! 1 passed, 1 failed.", 5.0)


@pytest.mark.parametrize(("version", "able"), [("1.11.0", True), ("1.11.4", True), ("1.15.0", True), ("2.0.0", True), ("unknown", True),
                                               ("1.10.5", False), ("1.7.0", False), ("v1.9.8", False)])
def test_the_tests_need_terraform_1_11_or_later(version: str, able: bool) -> None:
    from ssm_profile.terraform.module_tests import unable_to_test

    assert (unable_to_test(version) is None) is able
