"""ssm-profile on a user's machine: installed from a built wheel, in a repository of theirs,
with their own Terraform CLI configuration (issue 13's "done when").

The wheel goes into a fresh venv outside this repository (no --system-site-packages, no
PYTHONPATH). The user's CLI config names a filesystem mirror in a folder of their own and
ssm-profile's own mirror search is turned off (SSM_PROFILE_PROVIDERS=terraform), so every
Terraform step proves it ran as the user configured it. Then the whole pipeline:
generate -> validate -> plan -> test -> judges install -> check -> terraform-docs rewrites the
README block -> drift.

pip's HTTP cache is not usable everywhere (some index proxies forbid caching), so the wheels
of the tool's and the judges' dependencies are downloaded once into a wheelhouse under
.cache/ (kept between runs, like pip's cache) and installed from it with --no-index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import GENERATOR, PACKAGE, ROOT

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

WHEELHOUSE = ROOT / ".cache" / "user-machine-wheels"
JUDGES_REQUIREMENTS = PACKAGE / "data" / "judges-requirements.txt"

# A company's spec: one Region, a bucket owned by another account (so parliament's finding on
# s3:PutObjectAcl must be accepted by the suppression ssm-profile ships in its package).
COMPANY_SPEC = """\
version = 1
regions = ["eu-west-1"]

[role]
name = "AcmeSSMInstance"

[[s3.buckets]]
name = "acme-ssm-command-output"
cross_account = true
"""

TERRAFORM_DOCS_BLOCK = """<!-- BEGIN_TF_DOCS -->
## Requirements

| Name | Version |
|------|---------|
| <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) | >= 1.5.0 |

## Inputs

No inputs.
<!-- END_TF_DOCS -->"""


def _clean_env() -> dict[str, str]:
    """This process's environment without what points at this checkout or its settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SSM_PROFILE_", "TF_", "PYTHON")) and k != "TERRAFORM"}


def _pip(python: Path, *args: str) -> None:
    # Without PYTHONPATH: pip would take this checkout's generator/ for an installed ssm-profile.
    subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], check=True, env=_clean_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ssm-profile built as a wheel from this checkout, and its dependencies in the wheelhouse."""
    dist = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source")  # setuptools writes build/ and *.egg-info into the tree it builds
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(GENERATOR, source / GENERATOR.name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(dist), str(source))
    (built,) = dist.glob("ssm_profile-*.whl")
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    for wanted in ([str(built)], ["-r", str(JUDGES_REQUIREMENTS)]):
        fill = ["download", "-q", "--find-links", str(WHEELHOUSE), "-d", str(WHEELHOUSE), *wanted]
        try:  # a complete wheelhouse needs no index at all
            _pip(Path(sys.executable), *fill, "--no-index")
        except subprocess.CalledProcessError:
            _pip(Path(sys.executable), *fill)
    return built


@pytest.fixture(scope="module")
def user_machine(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh venv with the wheel installed, a user's home, CLI config and odd mirror place."""
    from ssm_profile.terraform.locate import find_provider_mirror

    base = tmp_path_factory.mktemp("user-machine")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _pip(venv / "bin" / "python", "install", "-q", "--no-index", "--find-links", str(WHEELHOUSE), str(wheel))
    mirror = base / "corp" / "terraform-providers"
    mirror.parent.mkdir()
    mirror.symlink_to(find_provider_mirror(), target_is_directory=True)
    config = base / "home" / ".config" / "terraform" / "acme.tfrc"
    config.parent.mkdir(parents=True)
    config.write_text(
        "provider_installation {\n  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n}}\n',
        encoding="utf-8",
    )
    repository = base / "acme-infra"
    (repository / "specs").mkdir(parents=True)
    (repository / "specs" / "ssm.toml").write_text(COMPANY_SPEC, encoding="utf-8")
    return {"venv": venv, "config": config, "repository": repository, "home": base / "home", "cache": base / "cache"}


def test_the_wheel_runs_the_whole_pipeline_with_the_users_terraform_configuration(user_machine: dict[str, Path]) -> None:
    venv, repository, config = user_machine["venv"], user_machine["repository"], user_machine["config"]
    env = _clean_env()
    env.update(
        HOME=str(user_machine["home"]),
        TF_CLI_CONFIG_FILE=str(config),
        SSM_PROFILE_PROVIDERS="terraform",  # ssm-profile's own mirror search is off
        SSM_PROFILE_CACHE=str(user_machine["cache"]),
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
    )
    source = f"providers: your Terraform configuration (TF_CLI_CONFIG_FILE={config})"
    config_before = config.read_text(encoding="utf-8")

    def ssm_profile(*args: str, extra_env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(venv / "bin" / "ssm-profile"), *args], cwd=repository, env={**env, **(extra_env or {})},
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, f"ssm-profile {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    located = subprocess.run([str(venv / "bin" / "python"), "-c", "import ssm_profile; print(ssm_profile.__file__)"],
                             cwd=repository, env=env, capture_output=True, text=True)
    assert located.stdout.startswith(str(venv)), f"the installed wheel, not this checkout, must run: {located.stderr}"

    out = ssm_profile("generate", "specs/ssm.toml", "-o", "modules/ssm")
    assert "wrote" in out
    assert source in ssm_profile("validate", "modules/ssm")
    (repository / "env").mkdir()
    (repository / "env" / "prod.tfvars").write_text('# production\ntags = {\n  CostCenter = "4711"\n}\n', encoding="utf-8")
    planned = ssm_profile("plan", "modules/ssm", "--offline", "--var-file", "env/prod.tfvars", "--markdown", "plan.md", "--json", "plan.json")
    assert source in planned and "module.ssm_profile.aws_iam_role.this" in planned
    assert "s3:PutObjectAcl" in (repository / "plan.md").read_text(encoding="utf-8")
    role = next(c for c in json.loads((repository / "plan.json").read_text(encoding="utf-8"))["resource_changes"]
                if c["address"] == "module.ssm_profile.aws_iam_role.this")
    assert role["change"]["after"]["tags"]["CostCenter"] == "4711"  # the HCL value, as Terraform parsed it
    assert source in ssm_profile("test", "modules/ssm")

    start = time.perf_counter()
    installed = ssm_profile("judges", "install", extra_env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)})
    seconds = time.perf_counter() - start
    print(f"judges install from the wheelhouse: {seconds:.1f} s")
    assert installed.startswith("judges installed in ") and str(user_machine["cache"]) in installed
    assert ssm_profile("judges", "install").startswith("judges already installed in ")

    checked = ssm_profile("check", "modules/ssm")
    assert source in checked and "check ok" in checked
    assert re.search(r"parliament: ok: .*1 suppressed", checked), checked

    readme = repository / "modules" / "ssm" / "README.md"
    text = readme.read_text(encoding="utf-8")
    rewritten = re.sub(r"<!-- BEGIN_TF_DOCS -->.*<!-- END_TF_DOCS -->", lambda _: TERRAFORM_DOCS_BLOCK, text, flags=re.DOTALL)
    assert rewritten != text
    readme.write_text(rewritten, encoding="utf-8")
    assert ssm_profile("drift", "modules").endswith("1 module up to date\n")

    assert config.read_text(encoding="utf-8") == config_before
    assert not (user_machine["cache"] / "terraform.rc").exists(), "ssm-profile's own CLI config was used"
