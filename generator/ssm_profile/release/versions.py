"""Semantic versions of a released module, and the smallest version a change allows.

A change's :class:`Level` is what it means for the module's callers (https://semver.org):
``MAJOR`` breaks a caller that does not change its root, ``MINOR`` adds without breaking,
``PATCH`` changes nothing a caller can see but in-place updates. Before 1.0.0 we follow Cargo's
convention (https://doc.rust-lang.org/cargo/reference/semver.html): a breaking change needs at
least a minor bump (0.1.3 -> 0.2.0), anything else a patch (0.1.3 -> 0.1.4). Terraform callers
pin such a module with ``~> 0.1.0``: ``~>`` lets only the rightmost given number grow
(https://developer.hashicorp.com/terraform/language/expressions/version-constraints).

The :class:`Version` class is ours rather than the ``semver`` package's: it is about forty
lines, follows semver.org's precedence rules (tests cover §11's examples) and keeps the CLI
free of a runtime dependency for what a release needs — parse, compare, bump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ..errors import SpecError

# semver.org's regular expression with \d spelled [0-9]: Python's \d matches any Unicode digit
# ("1\u0660.0.0" would pass), and a version is ASCII.
_SEMVER = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?",
    re.ASCII,
)
#: semver.org sets no length; 128 characters hold any real version, and keep each number far
#: below Python's limit on converting digits to an int (4,300).
MAX_VERSION_CHARS = 128


class Level(IntEnum):
    """How much a release changes for the module's callers; greater is more."""

    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        """``major``, ``minor`` or ``patch``."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        """``major``, ``minor`` or ``patch`` as a level."""
        return cls[text.upper()]


@dataclass(frozen=True)
class Reason:
    """Why a release needs at least ``level``, and what a caller does about it (``step``, for breaking changes)."""

    level: Level
    text: str
    step: str = ""

    def line(self) -> str:
        """``major: new provider alias aws.ap_southeast_2 (callers must pass it)``."""
        return f"{self.level.label}: {self.text}"


@dataclass(frozen=True, order=False)
class Version:
    """A semantic version (https://semver.org), ordered by semver precedence."""

    text: str
    key: tuple[Any, ...] = field(compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, field_path: str = "--version") -> Version:
        """Parse ``text``; raises :class:`SpecError` naming ``field_path`` when it is not semver."""
        if len(text) > MAX_VERSION_CHARS:
            raise SpecError(field_path, f"{text[:20]!r}… is {len(text)} characters long; a version has at most {MAX_VERSION_CHARS}")
        match = _SEMVER.fullmatch(text)
        if not match:
            hint = " (drop the leading v)" if _SEMVER.fullmatch(text[1:]) and text[:1] in "vV" else ""
            raise SpecError(field_path, f"{text!r} is not a semantic version MAJOR.MINOR.PATCH such as 1.2.0{hint}")
        major, minor, patch, pre, _build = match.groups()
        if pre is None:
            pre_key: tuple[Any, ...] = (1,)
        else:
            pre_key = (0, *((0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part) for part in pre.split(".")))
        return cls(text, (int(major), int(minor), int(patch), pre_key))

    @property
    def core(self) -> tuple[int, int, int]:
        """MAJOR, MINOR, PATCH without pre-release or build."""
        return self.key[0], self.key[1], self.key[2]

    @property
    def is_prerelease(self) -> bool:
        """Whether the version has a pre-release part (``1.0.0-rc.1``)."""
        return self.key[3] != (1,)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __str__(self) -> str:
        return self.text


def effective_level(level: Level, previous: Version | None) -> Level:
    """The number to bump for ``level``: before 1.0.0 (Cargo's convention) one place lower."""
    if previous is not None and previous.core[0] == 0:
        return Level.MINOR if level is Level.MAJOR else Level.PATCH
    return level


def next_version(previous: Version | None, level: Level) -> Version:
    """The smallest version after ``previous`` that a change of ``level`` allows.

    The first release is 0.1.0 (1.0.0 when asked for ``major``). After a pre-release, its own
    release line is enough when the pre-release already bumped that place, as npm's ``semver.inc``
    does: 2.0.0-rc.1 then a major change -> 2.0.0.
    """
    if previous is None:
        return Version.parse({Level.MAJOR: "1.0.0", Level.MINOR: "0.1.0", Level.PATCH: "0.0.1"}[level])
    major, minor, patch = previous.core
    bump = effective_level(level, previous)
    pre = previous.is_prerelease
    if bump is Level.MAJOR:
        core = (major, 0, 0) if pre and minor == patch == 0 else (major + 1, 0, 0)
    elif bump is Level.MINOR:
        core = (major, minor, 0) if pre and patch == 0 else (major, minor + 1, 0)
    else:
        core = (major, minor, patch) if pre else (major, minor, patch + 1)
    return Version.parse(".".join(map(str, core)))


def allows(previous: Version, version: Version, required: Level) -> bool:
    """Whether ``version`` after ``previous`` announces at least a ``required`` change.

    Compared on MAJOR.MINOR.PATCH: a pre-release of the smallest allowed version (2.0.0-rc.1
    for a major change after 1.4.0) is fine, because Terraform matches pre-releases only by
    exact version, so no ``~>`` pin ever picks it up.
    """
    return version.core >= next_version(previous, required).core
