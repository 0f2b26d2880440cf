"""Shared fixtures: example specs, the snapshot flag, and cached real Terraform plans."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODULES = ROOT / "modules"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_COMMAND = "make snapshots  (or: .venv/bin/python -m pytest -m terraform --snapshot-update)"


def example_specs() -> dict[str, Path]:
    """Every example spec, keyed by example name."""
    return {p.stem: p for p in sorted(EXAMPLES.iterdir()) if p.suffix in (".toml", ".yaml", ".yml", ".json")}


_PLANS: dict[Path, Any] = {}


def cached_plan(module_dir: Path) -> dict:
    """The offline ``terraform show -json`` plan of ``module_dir``, planned once per session.

    The first request plans every generated module beside it (all examples, in modules/) in
    one Terraform root: one provider start for all of them.
    """
    from ssm_profile.terraform.module_runs import plan_modules

    key = Path(module_dir).resolve()
    if key not in _PLANS:
        siblings = sorted(p for p in key.parent.iterdir() if (p / ".ssm-profile.json").is_file() and p not in _PLANS)
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
def _project_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Terraform's CLI config and plugin cache go to a folder of the project, never the
    # user's own ~/.cache; kept between runs so the provider is linked, not copied, again.
    os.environ.setdefault("SSM_PROFILE_CACHE", str(ROOT / ".cache" / "ssm-profile"))


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
