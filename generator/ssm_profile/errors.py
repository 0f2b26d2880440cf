"""The one error hierarchy of ssm-profile.

The CLI maps each class to an exit code and prints ``str(error)`` as a single line, so every
message names the spec field (or file, or command) it is about and what is allowed.
"""

from __future__ import annotations


class SsmProfileError(Exception):
    """Base class of every error ssm-profile reports to a user."""

    exit_code = 2


class SpecError(SsmProfileError):
    """The spec file, or an option, is not valid input. Exit code 2."""

    exit_code = 2

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class GenerationError(SsmProfileError):
    """The spec is well formed but cannot be turned into a module (a limit, a missing fact). Exit code 2."""

    exit_code = 2


class OutputError(SsmProfileError):
    """The output folder cannot be written safely (hand edits, not a generated module). Exit code 2."""

    exit_code = 2


class CheckFailed(SsmProfileError):
    """A check ran and found a difference or a finding. Exit code 1."""

    exit_code = 1


class TerraformError(SsmProfileError):
    """Terraform is missing, or ran and failed. Exit code 3."""

    exit_code = 3

    def __init__(self, message: str, output: str = "") -> None:
        self.output = output
        super().__init__(message)


class JudgeError(SsmProfileError):
    """A judge (checkov, parliament, policy_sentry) is missing, or could not run. Exit code 3.

    A judge that runs and objects to the module is a :class:`CheckFailed`, not this.
    """

    exit_code = 3
