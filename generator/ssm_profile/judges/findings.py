"""What a judge objects to, what a suppression accepts, and the verdict of one judge."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The judge names suppressions use: ``checkov`` covers both checkov runs.
SUPPRESSIBLE_JUDGES = ("checkov", "parliament", "policy_sentry")

#: Checks no suppression may name: a wildcard action or resource, or an action that does not
#: exist, is exactly what the generator promises never to write.
NEVER_SUPPRESSED = {
    "checkov": frozenset(
        {
            # Policy resources (checked on the plan and on inline policies)...
            "CKV_AWS_1",  # "*:*" administrative privileges
            "CKV_AWS_62",  # "*:*" in an IAM policy
            "CKV_AWS_63",  # "*" as a statement's action
            "CKV_AWS_286",  # privilege escalation without constraints
            "CKV_AWS_287",  # credentials exposure without constraints
            "CKV_AWS_288",  # data exfiltration without constraints
            "CKV_AWS_289",  # permissions management without constraints
            "CKV_AWS_290",  # write access without constraints
            "CKV_AWS_355",  # "*" as a statement's resource for restrictable actions
            # ...and the same rules for data "aws_iam_policy_document" (checked on the module).
            "CKV_AWS_49",  # "*" actions
            "CKV_AWS_107",  # credentials exposure without constraints
            "CKV_AWS_108",  # data exfiltration without constraints
            "CKV_AWS_109",  # permissions management without constraints
            "CKV_AWS_110",  # privilege escalation without constraints
            "CKV_AWS_111",  # write access without constraints
            "CKV_AWS_356",  # "*" as a statement's resource for restrictable actions
            "CKV2_AWS_40",  # full IAM privileges
            "INLINE_SKIP",  # a checkov:skip comment in the module, outside the one file
            "PARSE_ERROR",
        }
    ),
    "parliament": frozenset({"RESOURCE_STAR", "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "MALFORMED", "POLICY_UNKNOWN_AT_PLAN"}),
    "policy_sentry": frozenset({"UNKNOWN_ACTION", "UNKNOWN_SERVICE", "WILDCARD_ACTION"}),
}

@dataclass(frozen=True)
class Finding:
    """One thing a judge objects to.

    ``resource`` is the address inside the module (``aws_iam_policy.s3``); ``actions`` are the
    IAM actions the finding is about, when the judge names them.
    """

    judge: str
    check: str
    resource: str
    message: str
    actions: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """The judge name suppressions use: both checkov runs are ``checkov``."""
        return self.judge.split(" ")[0]

    def line(self) -> str:
        """The finding as one report line."""
        actions = f" [{', '.join(self.actions)}]" if self.actions else ""
        return f"{self.judge}: {self.check} on {self.resource or 'the module'}{actions}: {self.message}"


@dataclass(frozen=True)
class Checked:
    """What a judge checked, as it reads (``3 actions in 2 policies``) and as a count: 0 means
    it checked nothing, so its verdict is "not applicable", never "ok"."""

    text: str
    count: int

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Suppression:
    """A finding ``ssm-profile check`` accepts, and why."""

    judge: str
    check: str
    resource: str
    justification: str
    actions: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        """Whether this suppression covers ``finding``: same judge and check, its resource
        matches the glob, and (when the suppression lists actions) every action it names is listed."""
        if (finding.family, finding.check) != (self.judge, self.check):
            return False
        if not fnmatch.fnmatchcase(finding.resource, self.resource):
            return False
        if self.actions:
            allowed = {a.lower() for a in self.actions}
            return bool(finding.actions) and all(a.lower() in allowed for a in finding.actions)
        return True


@dataclass(frozen=True)
class Verdict:
    """What one judge said: how much it checked, what fails and what a suppression accepted."""

    judge: str
    checked: str
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[tuple[Finding, Suppression], ...] = ()
    seconds: float = 0.0
    #: How many things it checked (checks, policies, actions); None when not counted.
    count: int | None = None

    @property
    def ok(self) -> bool:
        """True when every finding is suppressed."""
        return not self.findings

    @property
    def status(self) -> str:
        """``FAILED`` on a finding left; ``not applicable`` when it checked nothing (0 checks
        passed is not a pass); else ``ok``."""
        if self.findings:
            return "FAILED"
        return "not applicable" if self.count == 0 and not self.suppressed else "ok"

    def detail(self) -> str:
        """What the judge checked and how many findings it had: ``1 policy, 1 finding, 1 suppressed``."""
        counts = f"{len(self.findings)} finding{'s' * (len(self.findings) != 1)}"
        if self.suppressed:
            counts += f", {len(self.suppressed)} suppressed"
        return f"{self.checked}, {counts}"

    def summary(self) -> str:
        """One line: the judge, what it checked, its findings."""
        return f"{self.judge}: {self.status}: {self.detail()} ({self.seconds:.1f} s)"


def apply_suppressions(
    judge: str, checked: str | Checked, findings: Iterable[Finding], suppressions: Iterable[Suppression], seconds: float = 0.0
) -> Verdict:
    """The verdict of ``judge`` once ``suppressions`` have accepted what they cover."""
    rules = tuple(suppressions)
    failing: list[Finding] = []
    accepted: list[tuple[Finding, Suppression]] = []
    for finding in findings:
        rule = next((r for r in rules if r.covers(finding)), None)
        if rule is None or finding.check in NEVER_SUPPRESSED.get(finding.family, ()):
            failing.append(finding)
        else:
            accepted.append((finding, rule))
    count = checked.count if isinstance(checked, Checked) else None
    return Verdict(judge, str(checked), tuple(failing), tuple(accepted), seconds, count)


def timed(judge: str, run: Any, suppressions: Iterable[Suppression], *args: Any) -> Verdict:
    """Run one judge function and turn its findings into a verdict."""
    start = time.perf_counter()
    checked, findings = run(*args)
    return apply_suppressions(judge, checked, findings, suppressions, time.perf_counter() - start)
