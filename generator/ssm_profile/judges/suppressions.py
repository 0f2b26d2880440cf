"""The suppressions file (``judges-suppressions.toml``): read, validated and found.

msgspec checks the shape (known keys, required keys, types) and reports the field path;
the rules msgspec cannot state (a known judge, a check that may be suppressed, a justification
of some length, a resource glob narrower than ``*``, actions without wildcards) follow.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec

from ..errors import SpecError
from ..intake import SUPPRESSIONS_FILE as SUPPRESSIONS_LIMITS
from ..intake import check_depth, read_text
from ..spec.parse import check_toml_nesting
from .env import SUPPRESSIONS_RESOURCE, shipped_suppressions_text
from .findings import NEVER_SUPPRESSED, SUPPRESSIBLE_JUDGES, Suppression

SUPPRESSIONS_FILE = "judges-suppressions.toml"
_MIN_JUSTIFICATION_WORDS = 8


class Scope(msgspec.Struct, forbid_unknown_fields=True):
    """What a suppression covers: a resource address glob and, optionally, named actions."""

    resource: str
    actions: list[str] = []


class SuppressionEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One ``[[suppression]]`` table."""

    judge: str
    check: str
    scope: Scope
    justification: str


class SuppressionsFile(msgspec.Struct, forbid_unknown_fields=True):
    """The whole file: ``[[suppression]]`` tables and nothing else."""

    suppression: list[SuppressionEntry] = []


#: msgspec's ValidationError text is "<what> - at `$.<path>`"; <what> names a field for
#: unknown and missing fields. Pinned to the message shapes of msgspec 0.18 to 0.19+.
_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")
_FIELD = re.compile(r"^Object (?P<kind>contains unknown|missing required) field `(?P<field>[^`]+)`$")
_ALLOWED = {
    "": ("suppression",),
    "scope": tuple(Scope.__struct_fields__),
}


def _spec_error(path: Path, error: msgspec.ValidationError) -> SpecError:
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches every string
    what, where = match["what"], (match["path"] or "").lstrip(".")
    field = _FIELD.match(what)
    if field is None:
        return SpecError(f"{path}: {where or 'suppression'}", what.replace("`", "").lower())
    where = f"{where}.{field['field']}".lstrip(".")
    if field["kind"] == "missing required":
        return SpecError(f"{path}: {where}", "required")
    parent = where.rsplit(".", 1)[0] if "." in where else ""
    allowed = _ALLOWED.get(parent.rsplit(".", 1)[-1] if parent else "", tuple(SuppressionEntry.__struct_fields__))
    return SpecError(f"{path}: {where}", f"unknown key; allowed: {', '.join(sorted(allowed))}")


def parse_suppressions(path: Path, text: str) -> tuple[Suppression, ...]:
    """The suppressions of a file's ``text``; ``path`` only names the file in errors."""
    # tomllib recurses per level and spends quadratic time on long dotted keys: bounded first,
    # with the spec reader's guard.
    check_toml_nesting(text, str(path), SUPPRESSIONS_LIMITS)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise SpecError(str(path), SUPPRESSIONS_LIMITS.too_deep) from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(str(path), f"not valid TOML: {' '.join(str(error).split())}") from None
    check_depth(data, SUPPRESSIONS_LIMITS, str(path))
    try:
        document = msgspec.convert(data, SuppressionsFile)
    except msgspec.ValidationError as error:
        raise _spec_error(path, error) from None
    return tuple(_suppression(f"{path}: suppression[{i}]", entry) for i, entry in enumerate(document.suppression))


def _suppression(where: str, entry: SuppressionEntry) -> Suppression:
    if entry.judge not in SUPPRESSIBLE_JUDGES:
        raise SpecError(f"{where}.judge", f"{entry.judge!r} is not a judge; allowed: {', '.join(SUPPRESSIBLE_JUDGES)}")
    if not entry.check.strip():
        raise SpecError(f"{where}.check", "must name one check ID")
    if entry.check in NEVER_SUPPRESSED[entry.judge]:
        raise SpecError(
            f"{where}.check", f"{entry.check} is about wildcards or unknown actions and cannot be suppressed; fix the module instead"
        )
    if len(entry.justification.split()) < _MIN_JUSTIFICATION_WORDS:
        raise SpecError(f"{where}.justification", f"must say why, in at least {_MIN_JUSTIFICATION_WORDS} words")
    resource = entry.scope.resource
    if not resource or resource.strip("*?.") == "":
        raise SpecError(f"{where}.scope.resource", "must name a resource address (a glob such as aws_iam_policy.*, not *)")
    if not all(action and "*" not in action for action in entry.scope.actions):
        raise SpecError(f"{where}.scope.actions", "must be a list of IAM actions without wildcards")
    return Suppression(entry.judge, entry.check, resource, " ".join(entry.justification.split()), tuple(entry.scope.actions))


def shipped_suppressions() -> tuple[Suppression, ...]:
    """The suppressions ssm-profile itself justifies, shipped inside the package."""
    return parse_suppressions(Path(f"ssm_profile/data/{SUPPRESSIONS_RESOURCE}"), shipped_suppressions_text())


def suppressions_for(user_file: Path | None) -> tuple[Suppression, ...]:
    """The shipped suppressions plus those of the user's file, if there is one."""
    return shipped_suppressions() + (load_suppressions(user_file) if user_file is not None else ())


def load_suppressions(path: Path) -> tuple[Suppression, ...]:
    """Read and validate a suppressions file (TOML, ``[[suppression]]`` tables)."""
    text = read_text(path, SUPPRESSIONS_LIMITS) or ""  # the bounded reader: a regular file, 1 MiB, UTF-8
    return parse_suppressions(Path(path), text)


def find_suppressions_file(module_dir: Path) -> Path | None:
    """The nearest ``judges-suppressions.toml`` in ``module_dir`` or a folder above it."""
    here = Path(module_dir).resolve()
    for folder in (here, *here.parents):
        if (folder / SUPPRESSIONS_FILE).is_file():
            return folder / SUPPRESSIONS_FILE
    return None
