"""What ``ssm-profile check`` found, as data: one :class:`StepResult` per step and judge, one
:class:`CheckReport` per module, and the exit code it ends with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckFailed, TerraformError
from ..judges import Finding, Verdict

#: The steps ``--skip`` may leave to other jobs (the Terraform steps are the gate's core).
SKIPPABLE = ("drift", "tests", "judges")

#: A step's status: ``ok``; ``FAILED`` (a finding, or Terraform failing); ``not applicable``
#: (there was nothing to check: never a pass); ``not run`` (an earlier step failed);
#: ``skipped`` (``--skip``).
STATUSES = ("ok", "FAILED", "not applicable", "not run", "skipped")


@dataclass(frozen=True)
class StepResult:
    """One step of a check (drift, a Terraform run, the module's tests or a judge) as data; the CLI prints it.

    ``status`` is one of :data:`STATUSES`; ``did`` names the Terraform commands the step ran;
    ``detail`` says what it checked or why it failed; ``note`` adds context (where the
    provider came from, why a step did not run); ``findings`` (a judge's) and ``problems``
    (drift's differences, failed test assertions) are printed one a line below it.
    """

    name: str
    status: str
    detail: str = ""
    did: str = ""
    seconds: float | None = None
    note: str = ""
    findings: tuple[Finding, ...] = ()
    problems: tuple[str, ...] = ()

    @classmethod
    def of_verdict(cls, verdict: Verdict) -> StepResult:
        """A judge's verdict as a step: ``not applicable`` when it checked nothing."""
        note = "it checked nothing here" if verdict.status == "not applicable" else ""
        return cls(verdict.judge, verdict.status, verdict.detail(), seconds=verdict.seconds, note=note, findings=verdict.findings)

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


@dataclass(frozen=True)
class CheckReport:
    """The outcome of checking one module (:func:`~ssm_profile.check.check_modules`): one
    result per step and judge.

    ``seconds`` is the wall time of the whole call, which the modules checked together share.
    ``drift``: why the module no longer matches its spec (hand edits included);
    ``test_failures``: the failed assertions of its own test files, each naming file and run.
    """

    module_dir: Path
    steps: tuple[StepResult, ...]
    fmt_problems: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    terraform_errors: tuple[TerraformError, ...]
    suppressions_file: Path | None
    seconds: float
    drift: tuple[str, ...] = ()
    test_failures: tuple[str, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every judge's finding no suppression accepted."""
        return tuple(f for v in self.verdicts for f in v.findings)

    @property
    def ok(self) -> bool:
        """True when Terraform succeeded and no step found anything."""
        return not (self.terraform_errors or self.fmt_problems or self.findings or self.drift or self.test_failures)

    def raise_for_failure(self) -> None:
        """Raise :class:`TerraformError` (exit 3) if Terraform failed to run, else
        :class:`CheckFailed` (exit 1) on any finding: drift, unformatted HCL, a failed test
        assertion, an unsuppressed judge's finding. Its first line sums up; one line per finding follows."""
        if self.terraform_errors:
            raise self.terraform_errors[0]
        summary, lines = [], []
        if self.drift:
            summary.append("drifted from its spec")
            lines += [f"drift: {line}" for line in self.drift]
        if self.fmt_problems:
            summary.append(f"not formatted as terraform fmt would: {', '.join(self.fmt_problems)}")
        if self.test_failures:
            summary.append(f"{len(self.test_failures)} test assertion{'s' * (len(self.test_failures) != 1)} failed")
            lines += [f"terraform test: {line}" for line in self.test_failures]
        if self.findings:
            summary.append(f"{len(self.findings)} finding{'s' * (len(self.findings) != 1)} not suppressed")
            where = f" (suppressions: {self.suppressions_file})" if self.suppressions_file else ""
            summary[-1] += where
        if summary:
            raise CheckFailed("\n".join([f"{self.module_dir}: {'; '.join(summary)}", *lines]))
