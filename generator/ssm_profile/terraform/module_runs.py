"""``validate``, ``plan`` and ``test`` of many generated modules, as data per module.

Validate and plan share one throwaway root (:mod:`.batch`): one provider start for all.
``terraform test`` runs the tests of one root module at a time (its ``tests/`` folder belongs
to the configuration under test), so :func:`run_all_module_tests` runs it once per module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CheckFailed, SsmProfileError, TerraformError
from .batch import run_modules
from .fleet_roots import validate_fleet
from .harness import module_info, run_module_tests
from .inputs import VarFile
from .runner import TerraformRunner, default_runner


@dataclass(frozen=True)
class ModuleResult:
    """One module's outcome: ``error`` (None when it passed); ``plan`` its ``show -json``
    document (plan); ``report`` Terraform's test summary line (test); ``roots`` the account roots
    validated (a fleet's LIVE folder)."""

    module_dir: Path
    error: SsmProfileError | None = None
    plan: dict[str, Any] | None = None
    report: str = ""
    roots: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def validate_modules(module_dirs: Sequence[Path], runner: TerraformRunner | None = None, *, fmt: bool = True) -> list[ModuleResult]:
    """``terraform fmt -check`` (HCL, when ``fmt``) of each module, then one ``init`` and one
    ``validate`` of every module together; a fleet's LIVE folder validates its account roots."""
    runner = runner or default_runner()
    infos = {Path(d): module_info(Path(d)) for d in module_dirs}  # SpecError before Terraform runs
    unformatted = {d: _unformatted(runner, d) if fmt else None for d in infos}
    modules = [d for d, info in infos.items() if not info.fleet and unformatted[d] is None]
    outcomes = {o.module_dir: o for o in run_modules(modules, runner, plan=False)} if modules else {}
    results = []
    for module_dir, info in infos.items():
        if unformatted[module_dir] is not None:
            results.append(ModuleResult(module_dir, unformatted[module_dir]))
        elif info.fleet:
            results.append(_validated_fleet(module_dir, runner))
        else:
            results.append(ModuleResult(module_dir, outcomes[module_dir].error))
    return results


def _unformatted(runner: TerraformRunner, module_dir: Path) -> CheckFailed | None:
    if any(p.suffix == ".tf" for p in module_dir.glob("*.tf")):
        files = runner.fmt_check(module_dir)
        if files:
            return CheckFailed(f"{module_dir}: not formatted as terraform fmt would: {', '.join(files)}")
    return None


def _validated_fleet(live: Path, runner: TerraformRunner) -> ModuleResult:
    try:
        return ModuleResult(live, roots=tuple(validate_fleet(live, runner)))  # every account root in one init and one validate
    except TerraformError as error:
        return ModuleResult(live, error)


def validate_fleet_root(root: Path, live_dir: Path, account: str, runner: TerraformRunner | None = None) -> ModuleResult:
    """``init`` and ``validate`` of one account root of the fleet in ``live_dir``, as written."""
    runner = runner or default_runner()
    try:
        return ModuleResult(root, roots=tuple(validate_fleet(live_dir, runner, only=(account,))))
    except TerraformError as error:
        return ModuleResult(root, error)


def plan_modules(
    module_dirs: Sequence[Path],
    runner: TerraformRunner | None = None,
    *,
    offline: bool = True,
    inputs: dict[str, Any] | None = None,
    var_file: VarFile | None = None,
) -> list[ModuleResult]:
    """Init, validate and plan every module in one root; each result holds its module's
    ``show -json`` document, addressed as in a one-module root (``module.ssm_profile.…``).
    ``inputs`` and ``var_file`` apply to one module only."""
    runner = runner or default_runner()
    outcomes = run_modules(list(module_dirs), runner, offline=offline, inputs=inputs, var_file=var_file)
    return [ModuleResult(o.module_dir, o.error, plan=o.plan) for o in outcomes]


def run_all_module_tests(module_dirs: Sequence[Path], runner: TerraformRunner | None = None) -> list[ModuleResult]:
    """Each module's own ``terraform test`` files, offline, one module after another."""
    for module_dir in module_dirs:
        module_info(Path(module_dir))  # every folder a generated module before Terraform runs
    runner = runner or default_runner()
    results = []
    for module_dir in map(Path, module_dirs):
        try:
            results.append(ModuleResult(module_dir, report=run_module_tests(module_dir, runner).summary))
        except (TerraformError, CheckFailed) as error:
            results.append(ModuleResult(module_dir, error))
    return results


def worst_error(results: Sequence[ModuleResult]) -> SsmProfileError | None:
    """The error a command over ``results`` ends with: the one failure as it is, else one naming
    every failed module, of the worst class (Terraform failing, exit 3, over a failed check, 1)."""
    failed = [r for r in results if r.error is not None]
    if not failed:
        return None
    if len(results) == 1:
        return failed[0].error
    named = [str(r.error) if str(r.error).startswith(f"{r.module_dir}: ") else f"{r.module_dir}: {r.error}" for r in failed]
    text = f"{len(failed)} of {len(results)} modules failed: " + " | ".join(named)
    return TerraformError(text) if any(isinstance(r.error, TerraformError) for r in failed) else CheckFailed(text)
