"""Many generated modules proven in one throwaway root, for the price of one provider start.

Every Terraform step starts the ~700 MB provider, so validating or planning modules one by one
pays that start once per module. Instead one root calls every module, each with its own
provider configurations (its default provider and one per Region alias, renamed after the
call), so one ``init``, one ``validate`` beside one ``plan`` and one ``show -json`` cover them
all. A failure is blamed on the module whose files (or whose call in the root) the diagnostics
name; that module is reported as failed, dropped from the root, and the step runs again for
the others. One module gets exactly the root :func:`~.harness.throwaway_root` writes.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import SpecError, TerraformError
from .diagnostics import error_files
from .harness import MODULE_SUFFIXES, ModuleInfo, module_info, root_config, throwaway_root
from .inputs import VarFile
from .module_tests import TestOutcome, borrow_init, merged, module_test_files, run_tests
from .runner import TerraformRunner

PLAN_FILE = "ssm-profile.tfplan"
#: The module call of a one-module root; plan documents are read as if every module had it.
CALL = "ssm_profile"
ROOT_FILE = "main.tf.json"

T = TypeVar("T")
Say = Callable[[str], None]


@dataclass(frozen=True)
class BatchModule:
    """One module of a batch: its folder, its call (and folder) in the root, its manifest facts."""

    module_dir: Path
    call: str
    folder: str
    info: ModuleInfo


@dataclass(frozen=True)
class ModuleOutcome:
    """What Terraform said about one module of a batch.

    ``error``: the step that failed for it (None when every step passed); ``plan``: its
    ``show -json`` document with addresses as in a one-module root (when shown); ``changes``:
    its planned changes read from ``plan -json`` (when planned); ``tests``: what its own
    ``terraform test`` files said (when run and it has some), or ``tests_error`` when
    Terraform could not run them.
    """

    module_dir: Path
    error: TerraformError | None = None
    plan: dict[str, Any] | None = None
    changes: tuple[dict[str, Any], ...] | None = None
    tests: TestOutcome | None = None
    tests_error: TerraformError | None = None

    @property
    def changes_document(self) -> dict[str, Any] | None:
        """A ``show -json``-shaped document of the planned changes (the shown plan when there is one)."""
        if self.plan is not None:
            return self.plan
        return None if self.changes is None else {"resource_changes": list(self.changes)}


def batch_modules(module_dirs: list[Path] | tuple[Path, ...]) -> list[BatchModule]:
    """The modules of a batch (each read from its manifest: a SpecError before Terraform runs);
    a folder given twice counts once."""
    unique: dict[Path, Path] = {}
    for module_dir in map(Path, module_dirs):
        unique.setdefault(module_dir.resolve(), module_dir)
    if not unique:
        raise SpecError("modules", "give at least one module folder")
    if len(unique) == 1:
        (module_dir,) = unique.values()
        return [BatchModule(module_dir, CALL, "module", module_info(module_dir))]
    modules = []
    for index, module_dir in enumerate(unique.values()):
        call = f"m{index}_{re.sub(r'[^A-Za-z0-9_-]', '_', module_dir.resolve().name)}"
        modules.append(BatchModule(module_dir, call, call, module_info(module_dir)))
    return modules


def batch_config(modules: list[BatchModule], offline: bool) -> dict[str, Any]:
    """The root (Terraform JSON) calling every module of ``modules`` with its own providers."""
    providers: list[dict[str, Any]] = []
    calls: dict[str, Any] = {}
    for module in modules:
        one = root_config(module.info, offline)
        default, *aliased = one["provider"]["aws"]
        renamed = {alias: f"{module.call}_{alias}" for _, alias in module.info.provider_aliases}
        providers.append({**default, "alias": module.call})
        providers.extend({**config, "alias": renamed[config["alias"]]} for config in aliased)
        call = {**one["module"][CALL], "source": f"./{module.folder}"}
        call["providers"] = {"aws": f"aws.{module.call}", **{f"aws.{alias}": f"aws.{name}" for alias, name in renamed.items()}}
        calls[module.call] = call
    return {
        "//": "Throwaway root written by ssm-profile to validate and plan several generated modules at once.",
        "provider": {"aws": providers},
        "module": calls,
    }


@contextmanager
def batch_root(modules: list[BatchModule], offline: bool, inputs: dict[str, Any] | None = None, var_file: VarFile | None = None) -> Iterator[Path]:
    """A temporary root calling every module; with one module, :func:`~.harness.throwaway_root`'s."""
    if len(modules) == 1:
        with throwaway_root(modules[0].module_dir, offline=offline, inputs=inputs, var_file=var_file) as root:
            yield root
        return
    if inputs or var_file is not None:
        raise SpecError("--var-file", "module inputs apply to one module; give one module folder")
    with tempfile.TemporaryDirectory(prefix="ssm-profile-batch-") as tmp:
        root = Path(tmp)
        for module in modules:
            target = root / module.folder
            target.mkdir()
            for path in module.module_dir.iterdir():
                if path.is_file() and path.name.endswith(MODULE_SUFFIXES):
                    shutil.copy2(path, target / path.name)
        write_root(root, modules, offline)
        yield root


def write_root(root: Path, modules: list[BatchModule], offline: bool, config: dict[str, Any] | None = None) -> None:
    """(Re)write the batch root's configuration to call ``modules`` (``config``: one made from
    :func:`batch_config` for them)."""
    config = config or batch_config(modules, offline)
    (root / ROOT_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def blame(output: str, modules: list[BatchModule], root_text: str) -> dict[Path, str]:
    """The modules Terraform's ``output`` names errors in, each with its first error as one line.

    An error in a module's files names ``<folder>/<file>``; an error in its call names the
    root file at a line of that call's block.
    """
    by_folder = {module.folder: module for module in modules}
    spans = _call_spans(root_text, modules)
    blamed: dict[Path, str] = {}
    for filename, line, message in error_files(output):
        folder = filename.split("/", 1)[0]
        module = by_folder.get(folder) if "/" in filename else next((m for m, (a, b) in spans.items() if a <= line <= b), None)
        if module is not None:
            blamed.setdefault(module.module_dir, message)
    return blamed


def _call_spans(root_text: str, modules: list[BatchModule]) -> dict[BatchModule, tuple[int, int]]:
    """Each module call's first and last line in the root file (json.dumps indent=2 layout)."""
    lines = root_text.splitlines()
    starts = {module: next((i + 1 for i, line in enumerate(lines) if line == f'    "{module.call}": {{'), 0) for module in modules}
    spans = {}
    for module, start in starts.items():
        end = next((i + 1 for i in range(start, len(lines)) if lines[i] in ("    },", "    }")), len(lines))
        spans[module] = (start, end)
    return spans


@dataclass
class BatchRun:
    """Steps run in one batch root; a failing module is recorded and dropped, the rest go on."""

    root: Path
    modules: list[BatchModule]
    offline: bool
    active: list[BatchModule] = field(default_factory=list)
    errors: dict[Path, TerraformError] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.active = list(self.modules)

    def step(self, name: str, action: Callable[[Path], T]) -> T | None:
        """Run ``action`` on the root until it passes for the modules not yet blamed; None when none is left."""
        while self.active:
            try:
                return action(self.root)
            except TerraformError as error:
                root_text = (self.root / ROOT_FILE).read_text(encoding="utf-8")
                blamed = blame(error.output, self.active, root_text) if len(self.active) > 1 else {}
                if not blamed:  # not any one module's fault (or only one module): all of them fail
                    self.errors.update({m.module_dir: error for m in self.active})
                    self.active = []
                    return None
                failed = str(error).split(" failed", 1)[0] if str(error).startswith("terraform ") else f"terraform {name}"
                self.errors.update({path: TerraformError(f"{failed} failed: {message}", error.output) for path, message in blamed.items()})
                self.active = [m for m in self.active if m.module_dir not in blamed]
                if self.active:
                    write_root(self.root, self.active, self.offline)
        return None


def run_modules(
    module_dirs: list[Path] | tuple[Path, ...],
    runner: TerraformRunner,
    *,
    plan: bool = True,
    show: bool = True,
    tests: bool = False,
    offline: bool = True,
    inputs: dict[str, Any] | None = None,
    var_file: VarFile | None = None,
    say: Say | None = None,
    label: str = "",
    after_init: Callable[[], None] | None = None,
) -> list[ModuleOutcome]:
    """``init``, ``validate`` (beside ``plan`` when asked and the runner allows; left to plan
    and the tests when every module has tests to run) and ``show -json`` of every module in one
    root; one outcome per module, in the order given.

    ``show``: read the plan document; without it (and when the runner reads planned changes
    from ``plan -json``) no ``show`` runs. ``tests``: also run each module's own ``terraform
    test`` files in its folder of the root, on the root's init (:mod:`.module_tests`), beside
    plan when the runner allows. ``after_init`` runs once the root is
    initialised; ``say`` hears each step, after ``label`` (default: the runner's name).
    """
    modules = batch_modules(module_dirs)
    say = say or (lambda message: None)
    label = label or runner.name
    with batch_root(modules, offline, inputs, var_file) as root, ThreadPoolExecutor(max_workers=2) as pool:
        run = BatchRun(root, modules, offline)
        say(f"{label}: init")
        run.step("init", runner.init)
        if after_init is not None and run.active:
            after_init()
        # Tests beside plan when two commands may share the folder, else after it.
        tested = _start_tests(run, runner, pool, say, label) if tests and runner.concurrent_steps else {}
        # Plan validates before it plans (the walk terraform validate makes), and terraform test
        # validates the module and its test files: beside the tests, a validate of its own
        # would only take the core they run on.
        validate = not (tests and all(module_test_files(m.module_dir) for m in run.active))
        if plan:
            changes = run.step("plan", lambda r: _validate_and_plan(runner, r, say, label, validate))
        else:
            changes = run.step("validate", runner.validate)
        document = None
        if plan and run.active and (show or changes is None):
            say(f"{label}: show -json")
            document = run.step("show", lambda r: runner.show(r, PLAN_FILE))
        if tests and not runner.concurrent_steps:
            tested = _start_tests(run, runner, pool, say, label)
        outcomes = [_outcome(module, run, changes if plan else None, document) for module in modules]
        return [_with_tests(outcome, tested.get(outcome.module_dir)) for outcome in outcomes]


def _start_tests(
    run: BatchRun, runner: TerraformRunner, pool: ThreadPoolExecutor, say: Say, label: str
) -> dict[Path, list[Future[TestOutcome]]]:
    """Start the test files of every module still in the run, each in its folder of the root.

    Each file runs in a ``terraform test`` of its own (``-filter``): Terraform runs a module's
    files one after another, and each plans every Region, so apart they use both cores (a
    module generated by this version has one file)."""
    started: dict[Path, list[Future[TestOutcome]]] = {}
    for module in run.active:
        files = module_test_files(module.module_dir)
        if not files:
            continue
        target = run.root / module.folder
        borrow_init(module.module_dir, target, run.root)
        say(f"{label}: test{'' if len(run.modules) == 1 else ' ' + str(module.module_dir)}")
        started[module.module_dir] = [pool.submit(run_tests, runner, target, run.root / ".terraform", name) for name in files]
    return started


def _with_tests(outcome: ModuleOutcome, tested: list[Future[TestOutcome]] | None) -> ModuleOutcome:
    if not tested:
        return outcome
    try:
        return dataclasses.replace(outcome, tests=merged([future.result() for future in tested]))
    except TerraformError as error:
        return dataclasses.replace(outcome, tests_error=error)


def _validate_and_plan(runner: TerraformRunner, root: Path, say: Say, label: str, validate: bool = True) -> list[dict[str, Any]] | None:
    if not validate:
        say(f"{label}: plan")
        return runner.plan(root, PLAN_FILE)
    if runner.concurrent_steps:
        # validate and plan only read the initialised root; each loads the provider
        # schema, so beside each other they cost one schema load of wall time.
        say(f"{label}: validate and plan")
        with ThreadPoolExecutor(max_workers=1) as pool:
            validated = pool.submit(runner.validate, root)
            try:
                changes = runner.plan(root, PLAN_FILE)
            except TerraformError:
                validated.result()  # validate's diagnostics first: they name the broken module
                raise
            validated.result()
            return changes
    say(f"{label}: validate")
    runner.validate(root)
    say(f"{label}: plan")
    return runner.plan(root, PLAN_FILE)


def _outcome(module: BatchModule, run: BatchRun, changes: list[dict[str, Any]] | None, document: dict[str, Any] | None) -> ModuleOutcome:
    error = run.errors.get(module.module_dir)
    if error is not None:
        return ModuleOutcome(module.module_dir, error)
    if module.call == CALL:
        return ModuleOutcome(module.module_dir, plan=document, changes=None if changes is None else tuple(changes))
    names = _Names.of(module)
    mine = None if changes is None else tuple(names.renamed(c) for c in changes if names.inside(c.get("address", "")))
    return ModuleOutcome(module.module_dir, plan=None if document is None else module_plan(document, module), changes=mine)


_ADDRESS_KEYS = ("address", "module_address", "previous_address")


@dataclass(frozen=True)
class _Names:
    """How a module's addresses and provider keys in a batch read in a one-module root."""

    call: str
    providers: dict[str, str]  # batch provider key -> one-module provider key

    @classmethod
    def of(cls, module: BatchModule) -> _Names:
        aliases = {f"aws.{module.call}_{alias}": f"aws.{alias}" for _, alias in module.info.provider_aliases}
        return cls(module.call, {f"aws.{module.call}": "aws", **aliases})

    def inside(self, address: str) -> bool:
        return address == f"module.{self.call}" or address.startswith((f"module.{self.call}.", f"module.{self.call}["))

    def renamed(self, value: Any) -> Any:
        """``value`` with addresses in ``module.<call>`` moved to ``module.ssm_profile``, provider keys likewise."""
        if isinstance(value, list):
            return [self.renamed(item) for item in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if key in _ADDRESS_KEYS and isinstance(item, str) and self.inside(item):
                item = f"module.{CALL}" + item[len(f"module.{self.call}") :]
            elif key == "provider_config_key" and isinstance(item, str):
                item = self.providers.get(item, item)
            out[key] = self.renamed(item)
        return out


def module_plan(plan: dict[str, Any], module: BatchModule) -> dict[str, Any]:
    """The part of a batch's ``show -json`` document that is ``module``'s, addressed as in a
    one-module root (``module.ssm_profile.…``, provider ``aws`` and ``aws.<alias>``), so
    summaries, snapshots and judges read it alike."""
    names = _Names.of(module)
    mine = dict(plan)
    mine["resource_changes"] = [names.renamed(c) for c in plan.get("resource_changes", []) if names.inside(c.get("address", ""))]
    root_module = (plan.get("planned_values") or {}).get("root_module") or {}
    children = [names.renamed(c) for c in root_module.get("child_modules", []) if names.inside(c.get("address", ""))]
    mine["planned_values"] = {**plan.get("planned_values", {}), "root_module": {**root_module, "child_modules": children}}
    configuration = plan.get("configuration") or {}
    if configuration:
        calls = (configuration.get("root_module") or {}).get("module_calls", {})
        root_part = {**configuration.get("root_module", {}), "module_calls": {CALL: names.renamed(calls[module.call])} if module.call in calls else {}}
        providers = {}
        for key, config in (configuration.get("provider_config") or {}).items():
            if key in names.providers:
                config = {k: v for k, v in config.items() if k != "alias"}
                alias = names.providers[key].partition(".")[2]
                providers[names.providers[key]] = {**config, "alias": alias} if alias else config
        mine["configuration"] = {**configuration, "root_module": root_part, "provider_config": providers}
    mine.pop("relevant_attributes", None)
    return mine
