"""A generated module's own ``terraform test`` files, run and read as data.

``terraform test -json`` prints one JSON message a line: a ``diagnostic`` per failed assertion
(summary ``Test assertion failed``, its ``@testfile``, ``@testrun`` and the assertion's
``error_message`` as detail) and one ``test_summary`` counting runs that passed, ``failed``
(an assertion did not hold: a finding, exit 1) and ``errored`` (Terraform could not run the
test: exit 3). https://developer.hashicorp.com/terraform/internals/machine-readable-ui

A module's tests belong to the module as a root configuration, so they run in the module's
folder; inside a batch root (:mod:`.batch`) that folder borrows the root's initialised
``.terraform`` (``TF_DATA_DIR``) and lock file, so no second ``init`` runs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckFailed, TerraformError
from ..render.tftest import TERRAFORM_FOR_TESTS
from .runner import TerraformRunner

TEST_SUFFIXES = (".tftest.hcl", ".tftest.json")
LOCK_FILE = ".terraform.lock.hcl"


@dataclass(frozen=True)
class FailedAssertion:
    """One assertion of a module's test files that did not hold."""

    file: str
    run: str
    message: str

    def line(self) -> str:
        """``tests/module.tftest.hcl: run "x": <the assertion's error_message>``."""
        return f'{self.file}: run "{self.run}": {self.message}'


@dataclass(frozen=True)
class TestOutcome:
    """What ``terraform test`` said: runs passed and failed, and each failed assertion."""

    passed: int
    failed: int
    failures: tuple[FailedAssertion, ...] = ()
    #: Terraform's own summary line (``Success! 2 passed, 0 failed.``).
    summary: str = ""
    #: Wall time of the ``terraform test`` run.
    seconds: float | None = None

    __test__ = False  # not a pytest test class

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failure(self, module_dir: Path) -> None:
        """:class:`CheckFailed` (exit 1) naming each failed assertion's file and run."""
        if not self.ok:
            listed = "; ".join(f.line() for f in self.failures) or self.summary
            raise CheckFailed(f"{module_dir}: terraform test: {self.failed} of {self.passed + self.failed} runs failed: {listed}")


def unable_to_test(version: str) -> TerraformError | None:
    """Why Terraform ``version`` cannot run a generated module's tests (they set computed values
    during plan, ``override_during``, new in 1.11.0), as the error to report; None when it can,
    or when the version does not read as one."""
    found = re.match(r"v?(\d+)\.(\d+)\.", version)
    if found is None or (int(found[1]), int(found[2])) >= TERRAFORM_FOR_TESTS:
        return None
    needed = ".".join(map(str, TERRAFORM_FOR_TESTS))
    return TerraformError(
        f"terraform {version} cannot run the module's tests: they need Terraform >= {needed}.0 (override_during); "
        "upgrade Terraform (check --skip tests leaves them out)"
    )


def has_tests(module_dir: Path) -> bool:
    """Whether ``module_dir`` holds test files (``tests/*.tftest.hcl`` or ``.tftest.json``)."""
    return bool(module_test_files(module_dir))


def module_test_files(module_dir: Path) -> tuple[str, ...]:
    """The module's test files, relative to it (``tests/module.tftest.hcl``), sorted."""
    return tuple(sorted(f"tests/{p.name}" for p in (Path(module_dir) / "tests").glob("*") if p.name.endswith(TEST_SUFFIXES)))


def merged(outcomes: list[TestOutcome]) -> TestOutcome:
    """One outcome of test files run apart: runs and failures summed, the longest wall time."""
    passed, failed = sum(o.passed for o in outcomes), sum(o.failed for o in outcomes)
    summary = f"{'Success' if not failed else 'Failure'}! {passed} passed, {failed} failed."
    seconds = max((o.seconds for o in outcomes if o.seconds is not None), default=None)
    return TestOutcome(passed, failed, tuple(f for o in outcomes for f in o.failures), summary, seconds)


def read_test_output(output: str) -> tuple[TestOutcome | None, int]:
    """The outcome ``terraform test -json`` printed (None without its summary), and how many
    runs errored (Terraform could not run them)."""
    failures: list[FailedAssertion] = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue  # stderr's text warnings come first
        try:
            message = json.loads(line)
        except ValueError:
            continue
        diagnostic = message.get("diagnostic") or {}
        if message.get("type") == "diagnostic" and diagnostic.get("summary") == "Test assertion failed":
            failures.append(FailedAssertion(message.get("@testfile", "?"), message.get("@testrun", "?"), diagnostic.get("detail", "")))
        elif message.get("type") == "test_summary":
            counts = message.get("test_summary") or {}
            outcome = TestOutcome(int(counts.get("passed", 0)), int(counts.get("failed", 0)), tuple(failures), message.get("@message", ""))
            return outcome, int(counts.get("errored", 0))
    return None, 0


def run_tests(runner: TerraformRunner, workdir: Path, data_dir: Path | None = None, test_file: str | None = None) -> TestOutcome:
    """``terraform test`` in ``workdir`` (initialised, or borrowing ``data_dir``; only
    ``test_file`` when given): its outcome, failed assertions included;
    :class:`TerraformError` when Terraform could not run a test."""
    start = time.perf_counter()
    try:
        output = runner.test(workdir, data_dir, test_file) if test_file else runner.test(workdir, data_dir)
    except TerraformError as error:
        outcome, errored = read_test_output(error.output)
        if outcome is None or errored or not outcome.failed:
            raise
    else:
        outcome, errored = read_test_output(output)
        if outcome is None:
            raise TerraformError("terraform test failed: it printed no summary", output)
    return dataclasses.replace(outcome, seconds=time.perf_counter() - start)


def borrow_init(module_dir: Path, target: Path, root: Path) -> None:
    """Make ``target`` (the copy of ``module_dir`` inside the initialised ``root``) ready for
    ``terraform test`` with ``TF_DATA_DIR=root/.terraform``: its test files and the root's lock file."""
    tests = target / "tests"
    tests.mkdir(exist_ok=True)
    for path in (Path(module_dir) / "tests").iterdir():
        if path.is_file() and path.name.endswith(TEST_SUFFIXES):
            shutil.copy2(path, tests / path.name)
    if (root / LOCK_FILE).is_file():  # Terraform's init writes one; without it, test says what is missing
        shutil.copy2(root / LOCK_FILE, target / LOCK_FILE)
