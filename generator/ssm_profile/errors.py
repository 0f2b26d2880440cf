"""The one error hierarchy of ssm-profile.

The CLI maps each class to an exit code and prints ``str(error)`` as a single line, so every
message names the spec field (or file, or command) it is about and what is allowed.
"""

from __future__ import annotations

import json
import re


class SsmProfileError(Exception):
    """Base class of every error ssm-profile reports to a user."""

    exit_code = 2


class SpecError(SsmProfileError):
    """The spec file, or an option, is not valid input. Exit code 2."""

    exit_code = 2

    def __init__(self, path: str, message: str) -> None:
        # Paths and messages can carry a user's text (a map key, a file name); the CLI's
        # contract is one line, so anything that could break or hide a line is escaped here.
        self.path = one_line(path, MAX_PATH_CHARS)
        self.message = one_line(message, MAX_MESSAGE_CHARS)
        super().__init__(f"{self.path}: {self.message}" if self.path else self.message)


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


# -- how a run is stopped by a signal -------------------------------------------------------


class Terminated(BaseException):
    """SIGTERM, raised (by the CLI's handler) so the writer and child processes are cleaned up
    before the process ends with 143. Not an :class:`SsmProfileError`: nothing catches it by mistake."""


# -- showing a user's text inside a one-line message -----------------------------------------

#: How much of a user's value or key a message echoes before it is cut.
MAX_SHOWN_CHARS = 60
MAX_PATH_CHARS = 300
MAX_MESSAGE_CHARS = 2000


def one_line(text: str, limit: int | None = MAX_MESSAGE_CHARS) -> str:
    """``text`` with every non-printable character backslash-escaped, cut to ``limit`` characters (None: uncut).

    Non-printable is what :meth:`str.isprintable` refuses: line and paragraph separators (``\\n``,
    ``\\x85``, ``\\u2028``), other control and format characters (a right-to-left override could
    make a message misstate its text) and unpaired surrogates from undecodable file names.
    """
    text = text[:limit]  # escaping only lengthens; never walk more than is shown
    text = re.sub(r".", _escape_on_demand, text, flags=re.S) if not text.isprintable() else text
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _escape_on_demand(match: re.Match[str]) -> str:
    char = match[0]
    return char if char.isprintable() else repr(char)[1:-1]


def shown(value: object) -> str:
    """A user's value for a message: ``repr`` (which escapes what is not printable), cut when long."""
    if isinstance(value, str) and len(value) > MAX_SHOWN_CHARS:
        return f"{value[:MAX_SHOWN_CHARS]!r}… ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS * 2 else text[: MAX_SHOWN_CHARS * 2] + "…"


def quoted_key(key: object) -> str:
    """A map key as it appears in a field path: a JSON string, escaped to one line, cut when long."""
    if not isinstance(key, str):
        return shown(key)
    text = key if len(key) <= MAX_SHOWN_CHARS else key[:MAX_SHOWN_CHARS]
    quoted = one_line(json.dumps(text, ensure_ascii=False), limit=10 * MAX_SHOWN_CHARS)
    return quoted if text is key else quoted[:-1] + '…"'


def key_path(parent: str, key: object) -> str:
    """The field path of ``key`` in the map at ``parent``: ``role.tags["Team"]``."""
    return f"{parent}[{quoted_key(key)}]"
