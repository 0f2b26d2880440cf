"""The tool in someone else's setup, without running Terraform: provider sources, progress,
the judges' environment, variable files, the plan summary and drift over many modules."""

from __future__ import annotations

import io
import json
import shutil
import stat
from pathlib import Path

import pytest

from conftest import EXAMPLES, MODULES, run
from ssm_profile.errors import JudgeError, SpecError, TerraformError
from ssm_profile.terraform import providers as provider_sources
from ssm_profile.terraform.inputs import module_inputs, read_var_file
from ssm_profile.terraform.plan_summary import summarise_plan
from ssm_profile.terraform.progress import StepProgress
from ssm_profile.terraform.providers import PROVIDERS_VARIABLE, ProviderSources, provider_choice

OFFLINE_INIT_OUTPUT = """
Initializing provider plugins...
- Finding latest version of hashicorp/aws...
╷
│ Error: Failed to query available provider packages
│
│ Could not retrieve the list of available versions for provider
│ hashicorp/aws: could not connect to registry.terraform.io: failed to request
│ discovery document: dial tcp: lookup registry.terraform.io: no such host
│
│ To see which modules are currently depending on hashicorp/aws and what
│ versions are specified, run the following command:
│     terraform providers
╵
"""



@pytest.fixture
def user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A user's own Terraform CLI config, named by TF_CLI_CONFIG_FILE for this test only."""
    config = tmp_path / "user.tfrc"
    config.write_text('provider_installation {\n  direct {}\n}\n', encoding="utf-8")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))
    monkeypatch.delenv(PROVIDERS_VARIABLE, raising=False)
    monkeypatch.setattr(provider_sources, "_FALLBACKS", {})
    return config


# --- provider sources ------------------------------------------------------------------------


def test_the_provider_source_comes_from_the_option_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROVIDERS_VARIABLE, raising=False)
    assert provider_choice() == "auto"
    monkeypatch.setenv(PROVIDERS_VARIABLE, "Mirror")
    assert provider_choice() == "mirror" and provider_choice("terraform") == "terraform"
    monkeypatch.setenv(PROVIDERS_VARIABLE, "offline")
    with pytest.raises(SpecError, match=r"\$SSM_PROFILE_PROVIDERS: 'offline' is not a provider source; allowed: auto, terraform, mirror"):
        provider_choice()


def test_auto_uses_the_users_configuration_when_it_installs_the_provider(user_config: Path) -> None:
    sources, used = ProviderSources("auto"), []
    sources.init(used.append)
    assert used == ["terraform"] and sources.current() == "terraform"
    assert sources.label() == f"providers: your Terraform configuration (TF_CLI_CONFIG_FILE={user_config})"


def test_auto_falls_back_to_the_mirror_once_and_says_why(user_config: Path) -> None:
    notes: list[str] = []
    used: list[str] = []

    def attempt(source: str) -> None:
        used.append(source)
        if source == "terraform":
            raise TerraformError("terraform init failed: Error: Failed to query available provider packages", OFFLINE_INIT_OUTPUT)

    ProviderSources("auto", announce=notes.append).init(attempt)
    assert used == ["terraform", "mirror"]
    (note,) = notes
    assert str(user_config) in note and "could not connect to registry.terraform.io" in note and "local mirror" in note
    later = ProviderSources("auto")
    later.init(used.append)  # the same configuration fails the same way: straight to the mirror
    assert used[-1] == "mirror" and "fallback" in later.label()


def test_terraform_never_falls_back_and_the_error_names_the_source(user_config: Path) -> None:
    def attempt(source: str) -> None:
        assert source == "terraform"
        raise TerraformError("terraform init failed: Error: Failed to query available provider packages", OFFLINE_INIT_OUTPUT)

    with pytest.raises(TerraformError) as raised:
        ProviderSources("terraform").init(attempt)
    assert "no such host" in str(raised.value) and f"your Terraform configuration (TF_CLI_CONFIG_FILE={user_config})" in str(raised.value)


def test_a_module_error_is_not_a_reason_to_fall_back(user_config: Path) -> None:
    used: list[str] = []

    def attempt(source: str) -> None:
        used.append(source)
        raise TerraformError("terraform init failed: Error: Unsupported argument", "Error: Unsupported argument\n")

    with pytest.raises(TerraformError, match="Unsupported argument"):
        ProviderSources("auto").init(attempt)
    assert used == ["terraform"]


def test_the_user_configuration_is_passed_through_untouched(user_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ssm_profile.terraform.locate import PROVIDER, os_arch
    from ssm_profile.terraform.runner import terraform_env

    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", str(tmp_path / "users-plugin-cache"))
    monkeypatch.setenv("SSM_PROFILE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(tmp_path / "mirror"))
    (tmp_path / "mirror").joinpath(*PROVIDER, "5.100.0", os_arch()).mkdir(parents=True)
    before = user_config.read_text(encoding="utf-8")
    assert terraform_env(providers="terraform")["TF_CLI_CONFIG_FILE"] == str(user_config)
    assert terraform_env(providers="terraform")["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "users-plugin-cache")
    mirror = terraform_env(providers="mirror")
    assert mirror["TF_CLI_CONFIG_FILE"] != str(user_config) and "TF_PLUGIN_CACHE_DIR" not in mirror
    assert user_config.read_text(encoding="utf-8") == before


# --- progress --------------------------------------------------------------------------------


def test_progress_prints_one_line_per_step_off_a_terminal() -> None:
    stream = io.StringIO()
    progress = StepProgress(stream)
    with progress.step("terraform init"):
        pass
    with pytest.raises(TerraformError), progress.step("terraform plan"):
        raise TerraformError("no")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("ssm-profile: terraform init: done in ") and lines[0].endswith(" s")
    assert lines[1].startswith("ssm-profile: terraform plan: failed in ")


def test_progress_on_a_terminal_is_one_live_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import ssm_profile.terraform.progress as progress_module

    monkeypatch.setattr(progress_module, "_TICK_SECONDS", 0.01)
    stream = io.StringIO()
    with StepProgress(stream, live=True).step("terraform validate"):
        time.sleep(0.1)
    text = stream.getvalue()
    assert text.count("\n") == 1 and "\r\x1b[K" in text and "terraform validate ... " in text
    assert text.rsplit("\r\x1b[K", 1)[1].startswith("ssm-profile: terraform validate: done in ")


# --- the judges' environment -----------------------------------------------------------------

FAKE_PYTHON = """#!/bin/sh
# A stand-in interpreter: `-m venv DIR` makes DIR/bin/python (this script); `-m pip install`
# writes the three judges' scripts, or fails when FAIL_PIP is set.
if [ "$2" = "venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0; fi
if [ "$2" = "pip" ]; then
  [ -n "$FAIL_PIP" ] && { echo "ERROR: No matching distribution found for checkov==3.3.30"; exit 1; }
  here=$(dirname "$0")
  for tool in checkov parliament policy_sentry; do printf '#!/bin/sh\\n' > "$here/$tool"; chmod +x "$here/$tool"; done
  echo "Successfully installed checkov parliament policy_sentry"; exit 0
fi
exit 2
"""


@pytest.fixture
def fake_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    script = tmp_path / "python"
    script.write_text(FAKE_PYTHON, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SSM_PROFILE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SSM_PROFILE_JUDGES_VENV", raising=False)
    return str(script)


def test_judges_install_builds_once_publishes_atomically_and_is_found(fake_python: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssm_profile.judges import find_judges
    from ssm_profile.judges.env import install_judges, managed_venv

    leftover = managed_venv().parent / f"{managed_venv().name}.build-killed"
    leftover.mkdir(parents=True)
    lines: list[str] = []
    venv, built = install_judges(lines.append, fake_python)
    assert built and venv == managed_venv() and venv.is_symlink() and not leftover.exists()
    assert any("installing checkov==3.3.30" in line for line in lines) and any("Successfully installed" in line for line in lines)
    assert any("left by an install that did not finish" in line for line in lines)
    assert install_judges(lines.append, fake_python) == (venv, False)
    monkeypatch.chdir(tmp_path)
    assert find_judges().checkov == venv / "bin" / "checkov"
    code, out, _ = run("judges", "install", "--python", fake_python)
    assert code == 0 and out == f"judges already installed in {venv}\n"
    first_build = venv.resolve()
    (venv / "bin" / "python").unlink()  # the Python it was built from has gone
    assert install_judges(lines.append, fake_python) == (venv, True)
    assert venv.resolve() != first_build and not first_build.exists()


def test_a_failed_judges_install_leaves_nothing_behind(fake_python: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssm_profile.judges.env import install_judges, managed_venv

    monkeypatch.setenv("FAIL_PIP", "1")
    with pytest.raises(JudgeError, match=r"pip install failed .*No matching distribution"):
        install_judges(lambda line: None, fake_python)
    assert not managed_venv().exists() and not list(managed_venv().parent.glob("*.build-*"))


def test_the_judges_requirements_and_suppressions_ship_in_the_package() -> None:
    from ssm_profile.judges import shipped_suppressions

    code, out, _ = run("judges", "requirements")
    assert code == 0 and "checkov==" in out and "parliament==" in out and "policy_sentry==" in out
    assert [(r.judge, r.check, r.actions) for r in shipped_suppressions()] == [
        ("parliament", "PERMISSIONS_MANAGEMENT_ACTIONS", ("s3:PutObjectAcl",))
    ]


# --- variable files --------------------------------------------------------------------------


def test_module_inputs_are_read_from_hcl_and_json_modules(tmp_path: Path) -> None:
    assert module_inputs(MODULES / "multi-region-full") == ("account_id", "tags", "vpc_endpoint_network")
    (tmp_path / "variables.tf.json").write_text(json.dumps({"variable": {"account_id": {}, "tags": {}}}), encoding="utf-8")
    assert module_inputs(tmp_path) == ("account_id", "tags")


def test_an_hcl_var_file_is_read_for_its_names_and_a_misspelling_is_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "prod.tfvars"
    good.write_text('# prod\naccount_id = "210987654321"\ntags = {\n  team = "platform"\n}\n', encoding="utf-8")
    assert read_var_file(good, MODULES / "multi-region-full").names == ("account_id", "tags")
    typo = tmp_path / "typo.tfvars"
    typo.write_text('acount_id = "210987654321"\n', encoding="utf-8")
    code, _, err = run("plan", str(MODULES / "multi-region-full"), "--var-file", str(typo))
    assert code == 2
    assert err == f"ssm-profile: error: {typo}: acount_id: not an input of the module (did you mean account_id?); allowed: account_id, tags, vpc_endpoint_network\n"


@pytest.mark.parametrize(("name", "text", "says"), [("bad.tfvars", "account_id = = 1\n", "not valid HCL"), ("bad.json", "[1]", "JSON object")])
def test_a_var_file_that_does_not_parse_is_exit_2(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, _, err = run("plan", str(MODULES / "multi-region-full"), "--var-file", str(path))
    assert code == 2 and says in err and str(path) in err


# --- plan summary ----------------------------------------------------------------------------


def test_the_plan_summary_lists_addresses_per_action_and_grants_per_policy() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Logs", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::logs/*"}]}
    plan = {
        "resource_changes": [
            {"address": "module.m.aws_iam_policy.s3", "type": "aws_iam_policy", "name": "s3",
             "change": {"actions": ["create"], "after": {"name": "LogsPolicy", "policy": json.dumps(policy)}}},
            {"address": "module.m.aws_iam_role.this", "type": "aws_iam_role", "name": "this", "change": {"actions": ["update"], "after": {}}},
            {"address": "module.m.aws_iam_role_policy_attachment.core", "type": "aws_iam_role_policy_attachment", "name": "core",
             "change": {"actions": ["delete", "create"], "after": {"policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}}},
            {"address": "module.m.aws_iam_policy.old", "type": "aws_iam_policy", "name": "old", "change": {"actions": ["delete"], "after": None}},
        ]
    }
    summary = summarise_plan(plan)
    assert summary.counts() == "1 to add, 1 to change, 1 to replace, 1 to destroy"
    text = "\n".join(summary.text())
    assert "  to destroy (1):\n    module.m.aws_iam_policy.old" in text
    assert "grants of module.m.aws_iam_policy.s3 (LogsPolicy):\n    Logs: Allow s3:PutObject on arn:aws:s3:::logs/*" in text
    assert "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" in text
    markdown = summary.markdown("modules/m")
    assert markdown.startswith("### ssm-profile plan: modules/m\n\n**1 to add, 1 to change, 1 to replace, 1 to destroy**")
    assert "| Logs | Allow | `s3:PutObject` | `arn:aws:s3:::logs/*` |  |" in markdown


# --- generate and drift ----------------------------------------------------------------------


def test_wrote_n_files_lists_n_names(tmp_path: Path) -> None:
    code, out, err = run("generate", str(EXAMPLES["basic"]), "-o", str(tmp_path / "m"))
    assert code == 0, err
    count, names = out.split(": wrote ", 1)[1].split(" files (", 1)
    assert int(count) == len(names.rstrip(")\n").split(", "))


def test_drift_reports_every_module_and_fails_for_a_path_without_one(tmp_path: Path) -> None:
    spec = tmp_path / "basic.toml"
    shutil.copy(EXAMPLES["basic"], spec)
    for name in ("a", "b", "c"):
        assert run("generate", str(spec), "-o", str(tmp_path / "mods" / name))[0] == 0
    manifest = tmp_path / "mods" / "a" / ".ssm-profile.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "spec": "../../gone.toml"}), encoding="utf-8")
    (tmp_path / "empty").mkdir()
    code, out, err = run("drift", str(tmp_path / "mods"), str(tmp_path / "empty"))
    assert code == 2
    assert "spec ../../gone.toml not found" in out and out.count(": up to date") == 2  # b and c are still checked
    assert "empty: holds no module generated by ssm-profile" in err and "gone.toml" in err
    code, out, _ = run("drift", str(tmp_path / "mods" / "b"))
    assert code == 0 and out.endswith("1 module up to date\n")


@pytest.mark.terraform
def test_validate_falls_back_to_the_mirror_when_the_users_mirror_lacks_the_provider(user_config: Path, tmp_path: Path) -> None:
    empty = tmp_path / "corporate-mirror"
    empty.mkdir()
    user_config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{empty}"\n  }}\n}}\n', encoding="utf-8")
    code, out, err = run("validate", str(MODULES / "basic"))
    assert code == 0, err
    assert "providers: local mirror " in out and "(fallback, your Terraform configuration could not install them)" in out
    assert f"your Terraform configuration (TF_CLI_CONFIG_FILE={user_config}) could not install hashicorp/aws" in err
    code, out, err = run("validate", str(MODULES / "basic"), "--providers", "terraform")
    assert code == 3 and f"(providers: your Terraform configuration (TF_CLI_CONFIG_FILE={user_config}))" in err



def test_a_users_lock_file_is_kept_in_our_cache_seeded_and_forgotten_when_it_no_longer_fits(
    user_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssm_profile.terraform.locate import saved_lock_file
    from ssm_profile.terraform.runner import _init_from

    monkeypatch.setenv("SSM_PROFILE_CACHE", str(tmp_path / "cache"))
    inits: list[bool] = []

    def root(name: str) -> Path:
        (tmp_path / name).mkdir()
        return tmp_path / name

    def init_writing(lock: str, fail_when_seeded: bool = False):  # type: ignore[no-untyped-def]
        def run_init() -> None:
            lock_file = workdir / ".terraform.lock.hcl"
            inits.append(lock_file.exists())
            if fail_when_seeded and lock_file.exists():
                raise TerraformError("terraform init failed: Error: Failed to query available provider packages")
            if not lock_file.exists():
                lock_file.write_text(lock, encoding="utf-8")

        return run_init

    workdir = root("first")
    _init_from("terraform", workdir, init_writing("v1"))
    assert saved_lock_file("terraform").read_text(encoding="utf-8") == "v1"
    assert saved_lock_file("terraform").parent == tmp_path / "cache" and user_config.read_text(encoding="utf-8").startswith("provider_installation")
    workdir = root("second")
    _init_from("terraform", workdir, init_writing("unused"))
    assert inits == [False, True]  # the second root started from the kept lock file
    workdir = root("third")
    _init_from("terraform", workdir, init_writing("v2", fail_when_seeded=True))
    assert inits[-2:] == [True, False] and saved_lock_file("terraform").read_text(encoding="utf-8") == "v2"
