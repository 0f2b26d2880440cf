"""Shared test fixtures: the examples, one CLI runner, grants of an inline spec, the snapshot
flag, and cached real Terraform plans."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ssm_profile.cli.main import cli
from ssm_profile.grants.build import Grants, build_grants
from ssm_profile.judges.suppressions import SUPPRESSIONS_FILE
from ssm_profile.output.manifest import MANIFEST_FILE
from ssm_profile.spec.load import spec_from_data

ROOT = Path(__file__).resolve().parent.parent
#: The folder holding the package (the product's layout names it); tests build every path into it from here.
GENERATOR = ROOT / "generator"
PACKAGE = GENERATOR / "ssm_profile"
EXAMPLES_DIR = ROOT / "examples"
#: Every example spec, keyed by example name (a constant: ``parametrize`` needs it at collection).
EXAMPLES: dict[str, Path] = {
    p.stem: p for p in sorted(EXAMPLES_DIR.iterdir()) if p.suffix in (".toml", ".yaml", ".yml", ".json")
}
MODULES = ROOT / "modules"
#: The committed generated modules (folders holding a manifest), by name.
GENERATED_MODULES = sorted(p.name for p in MODULES.iterdir() if (p / MANIFEST_FILE).is_file())
#: The judges' suppressions ssm-profile ships, and a justification line such a file accepts.
SHIPPED_SUPPRESSIONS = PACKAGE / "data" / SUPPRESSIONS_FILE
JUSTIFIED = 'justification = "AWS documents this grant for cross-account buckets and nothing wider is granted."'
#: AWS's documentation example account, which offline plans pass as `account_id` (docs/cli.md, "plan").
DOC_ACCOUNT = "111122223333"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_COMMAND = "make snapshots  (or: .venv/bin/python -m pytest -m terraform --snapshot-update)"


def invoke(*args: str, env: dict[str, str] | None = None, runner: Any = None) -> Result:
    """Run ``ssm-profile ARGS`` in-process; Click's whole result, exception included (for tests
    that judge how a run failed). ``env`` overrides variables for this one invocation only;
    ``runner`` is the TerraformRunner the Terraform commands use (a fake), handed in as click's
    ``obj``."""
    obj = {"runner": runner} if runner is not None else None
    return CliRunner().invoke(cli, list(args), prog_name="ssm-profile", env=env, obj=obj)


def run(*args: str, env: dict[str, str] | None = None, runner: Any = None) -> tuple[int, str, str]:
    """Run ``ssm-profile ARGS`` in-process; return (exit code, stdout, stderr).

    An exception other than the CLI's own exit is raised, so a crash never passes for an exit code.
    """
    result = invoke(*args, env=env, runner=runner)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def grants_of(regions: Sequence[str] = ("us-east-2",), /, **sections: Any) -> Grants:
    """The grants of an inline spec: version 1, ``regions``, and the given sections."""
    return build_grants(spec_from_data({"version": 1, "regions": list(regions), **sections}))


_PLANS: dict[Path, Any] = {}


def cached_plan(module_dir: Path) -> dict:
    """The offline ``terraform show -json`` plan of ``module_dir``, planned once per session.

    The first request plans every generated module beside it (all examples, in modules/) in
    one Terraform root: one provider start for all of them.
    """
    from ssm_profile.terraform.module_runs import plan_modules

    key = Path(module_dir).resolve()
    if key not in _PLANS:
        siblings = sorted(p for p in key.parent.iterdir() if (p / MANIFEST_FILE).is_file() and p not in _PLANS)
        for result in plan_modules(siblings if key in siblings else [key], offline=True):
            _PLANS[result.module_dir] = result.plan if result.ok else result.error
    if isinstance(_PLANS[key], Exception):
        raise _PLANS[key]
    return _PLANS[key]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--snapshot-update", action="store_true", default=False, help="Rewrite snapshot files instead of comparing."
    )


@pytest.fixture(scope="session", autouse=True)
def _project_caches() -> Iterator[None]:
    # Terraform's CLI config and plugin cache go to a folder of the project, never the user's
    # own ~/.cache; kept between runs so the provider is linked, not copied, again. jsii
    # (the CDK tests) unpacks its packages under the home folder by default: the project's
    # cache too. Session-wide (session fixtures start Terraform and node), undone at the end.
    with pytest.MonkeyPatch.context() as patch:
        for name, folder in (("SSM_PROFILE_CACHE", "ssm-profile"), ("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "jsii")):
            if name not in os.environ:
                patch.setenv(name, str(ROOT / ".cache" / folder))
        # Terraform and the provider are Go programs: a collector that runs a quarter as often
        # costs ≈15% less of their CPU for ≈20% more memory per process (docs/BENCHMARKS.md,
        # "The test suite"). The suite's own choice; ssm-profile never sets it for users.
        if "GOGC" not in os.environ:
            patch.setenv("GOGC", "400")
        yield


@pytest.fixture(autouse=True)
def _local_mirror_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite plans with the local mirror, never reading the developer's own Terraform
    # configuration (which might fetch from a registry); tests of the user's configuration
    # set SSM_PROFILE_PROVIDERS themselves. `SSM_PROFILE_PROVIDERS=auto pytest` overrides.
    if "SSM_PROFILE_PROVIDERS" not in os.environ:
        monkeypatch.setenv("SSM_PROFILE_PROVIDERS", "mirror")


@pytest.fixture
def snapshot(request: pytest.FixtureRequest):
    """Compare a JSON-able value with ``tests/snapshots/<name>``; rewrite it with --snapshot-update."""
    update = request.config.getoption("--snapshot-update")

    def check(name: str, value: object) -> None:
        path = SNAPSHOTS / name
        text = json.dumps(value, indent=2, sort_keys=True) + "\n"
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.is_file():
            pytest.fail(f"no snapshot {path.relative_to(ROOT)}; create it with: {UPDATE_COMMAND}")
        expected = path.read_text(encoding="utf-8")
        if expected != text:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True), text.splitlines(keepends=True), str(path.name), "actual", n=2
                )
            )
            pytest.fail(f"{path.relative_to(ROOT)} differs; if the change is intended run: {UPDATE_COMMAND}\n{diff}")

    return check
