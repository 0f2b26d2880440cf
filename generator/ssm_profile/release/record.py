"""The release record file (``.ssm-profile-release.json``): its schema, reader and writer.

``ssm-profile release`` writes the record; a regenerated module carries it over, with the
``moved`` blocks and the CHANGELOG.md it holds. The record keeps the released version, the
interface (inputs, outputs, provider aliases; :mod:`ssm_profile.release.interface`), the resource
inventory (:mod:`ssm_profile.release.inventory`) and grants of that release, the ``moved`` blocks
gathered over all releases, and the changelog.

The record is data: :mod:`ssm_profile.release.publish` decides what goes into the next one, and
:mod:`ssm_profile.pipeline` renders a released module from it, so both import this module and
neither imports the other's way.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec

from ..errors import OutputError, SpecError, shown
from ..intake import RELEASE_RECORD, json_depth, read_bytes
from ..output.manifest import RELEASE_FILE
from ..tfmodule.document import Block, ResourceAddress
from .interface import Input, Interface
from .inventory import Resource
from .versions import Version

CHANGELOG_FILE = "CHANGELOG.md"
#: Format 2 adds the interface. Format 1 records (ssm-profile's first releases) are still read,
#: and written back unchanged, so regenerating a module released then stays byte for byte the same.
RECORD_FORMAT = 2
RECORD_FORMATS = (1, 2)

@dataclass(frozen=True)
class Move:
    """A ``moved`` block: the resource at ``source`` is now at ``target``, since ``version``."""

    source: str
    target: str
    version: str

    def block(self) -> Block:
        """The ``moved`` block, in the module's ``moved`` file."""
        return Block(
            "moved",
            body={"from": ResourceAddress.parse(self.source), "to": ResourceAddress.parse(self.target)},
            comment=(f"Since {self.version}: the same object under a new address; Terraform moves it instead of replacing it.",),
            file="moved",
        )


@dataclass(frozen=True)
class ChangelogEntry:
    """One release's entry of the module's CHANGELOG.md: its version and Markdown lines."""

    version: str
    lines: tuple[str, ...]

    def text(self) -> str:
        """The entry as Markdown, heading first."""
        return "\n".join((f"## {self.version}", "", *self.lines)) + "\n"


@dataclass(frozen=True)
class ReleaseRecord:
    """What ``ssm-profile release`` keeps in OUT: the last release and the history a module carries."""

    version: str
    inventory: dict[str, Resource]
    grants: dict[str, tuple[str, ...]]
    moved: tuple[Move, ...] = ()
    changelog: tuple[ChangelogEntry, ...] = ()
    interface: Interface | None = None  # None: a format 1 record, written before interfaces were kept
    #: The spec's tags at this release (what the changelog compares tag by tag); None in records
    #: written before they were kept.
    tags: dict[str, str] | None = None

    def to_json(self) -> str:
        """The record file's text: stable, so regenerating reproduces it byte for byte."""
        data: dict[str, Any] = {
            "//": "Release record of this module, written by `ssm-profile release`. Do not edit.",
            "format": RECORD_FORMAT if self.interface is not None else 1,
            "version": self.version,
        }
        if self.interface is not None:
            data["interface"] = self.interface.to_data()
        data.update(
            inventory={address: self.inventory[address].to_data() for address in sorted(self.inventory)},
            grants={name: list(self.grants[name]) for name in sorted(self.grants)},
            **({"tags": dict(sorted(self.tags.items()))} if self.tags is not None else {}),
            moved=[{"from": m.source, "to": m.target, "since": m.version} for m in self.moved],
            changelog=[{"version": e.version, "lines": list(e.lines)} for e in self.changelog],
        )
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, path: str = RELEASE_FILE) -> ReleaseRecord:
        """Parse and validate a record file's text against its schema (:class:`_RecordFile`, then
        addresses, versions and names field by field); raises :class:`OutputError` naming ``path``
        and the field when anything is off."""
        try:
            if json_depth(text) > RELEASE_RECORD.max_depth:
                raise ValueError(RELEASE_RECORD.too_deep)
            data = msgspec.json.decode(text, type=_RecordFile)
            return _record(data)
        except msgspec.ValidationError as exc:
            reason = _schema_reason(str(exc))
        except (msgspec.DecodeError, ValueError, RecursionError, SpecError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
        raise OutputError(f"{path}: not a valid release record ({reason}); restore it from version control")


# -- The record file's schema: every field typed, nothing else allowed -------------------------


class _Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class _MoveFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    source: str = msgspec.field(name="from")
    target: str = msgspec.field(name="to")
    since: str


class _ResourceFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    type: str
    identity: dict[str, str]
    attributes: dict[str, str]


class _ValidationFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    condition: str
    error_message: str


class _InputFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    type: str
    required: bool
    validations: list[_ValidationFile]
    keys: list[str] = []


class _InterfaceFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    inputs: dict[str, _InputFile]
    outputs: list[str]
    aliases: list[str]


class _EntryFile(_Schema):  # type: ignore[misc]  # msgspec: frozen is inherited
    version: str
    lines: list[str]


class _RecordFile(_Schema, kw_only=True):  # type: ignore[misc]  # msgspec: frozen is inherited
    comment: str = msgspec.field(name="//", default="")
    format: Literal[1, 2]
    version: str
    interface: _InterfaceFile | None = None
    inventory: dict[str, _ResourceFile]
    grants: dict[str, list[str]]
    moved: list[_MoveFile]
    changelog: list[_EntryFile]
    tags: dict[str, str] | None = None  # the spec's tags at the release (records before 0.2.0: none)


#: Names the record holds besides addresses: inputs and outputs (HCL identifiers), provider
#: aliases (aws.<identifier>) and policy names (IAM's characters, CreatePolicy: [\w+=,.@-]+, ASCII).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ALIAS = re.compile(r"aws\.[a-z0-9_]+")
_POLICY_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,128}")


def _record(data: _RecordFile) -> ReleaseRecord:
    """The validated record: field by field what the types cannot say; a ValueError naming the field."""
    Version.parse(data.version, "version")
    for address, resource in data.inventory.items():
        _address(address, f"inventory[{json.dumps(address)}]")
        if resource.type != address.split(".", 1)[0]:
            raise ValueError(f"inventory[{json.dumps(address)}].type: {resource.type!r} is not the type its address names")
    for name in data.grants:
        _matches(_POLICY_NAME, name, f"grants[{json.dumps(name)}]", "an IAM policy name")
    for index, move in enumerate(data.moved):
        _address(move.source, f"moved[{index}].from")
        _address(move.target, f"moved[{index}].to")
        Version.parse(move.since, f"moved[{index}].since")
    for index, entry in enumerate(data.changelog):
        Version.parse(entry.version, f"changelog[{index}].version")
        for number, line in enumerate(entry.lines):
            if any(c in line for c in "\n\r\x00"):
                raise ValueError(f"changelog[{index}].lines[{number}]: holds a line break; each entry is one line")
    for key, value in (data.tags or {}).items():
        if any(c in key + value for c in "\n\r\x00"):
            raise ValueError(f"tags[{json.dumps(key)}]: holds a line break; tags are one line")
    if data.format >= 2 and data.interface is None:
        raise ValueError("interface: required in a format 2 record")
    interface = None
    if data.format >= 2 and data.interface is not None:
        interface = _interface(data.interface)
    return ReleaseRecord(
        version=data.version,
        inventory={
            address: Resource(type=r.type, identity=tuple(r.identity.items()), attributes=tuple(r.attributes.items()))
            for address, r in data.inventory.items()
        },
        grants={name: tuple(pairs) for name, pairs in data.grants.items()},
        moved=tuple(Move(m.source, m.target, m.since) for m in data.moved),
        changelog=tuple(ChangelogEntry(e.version, tuple(e.lines)) for e in data.changelog),
        interface=interface,
        tags=data.tags,
    )


def _interface(data: _InterfaceFile) -> Interface:
    for name in data.inputs:
        _matches(_IDENTIFIER, name, f"interface.inputs[{json.dumps(name)}]", "an input name")
    for index, name in enumerate(data.outputs):
        _matches(_IDENTIFIER, name, f"interface.outputs[{index}]", "an output name")
    for index, alias in enumerate(data.aliases):
        _matches(_ALIAS, alias, f"interface.aliases[{index}]", "a provider alias aws.NAME")
    return Interface(
        inputs={
            name: Input(
                type=entry.type,
                required=entry.required,
                validations=tuple((v.condition, v.error_message) for v in entry.validations),
                keys=tuple(entry.keys),
            )
            for name, entry in data.inputs.items()
        },
        outputs=tuple(data.outputs),
        aliases=tuple(data.aliases),
    )


def _address(text: str, field: str) -> None:
    try:
        ResourceAddress.parse(text)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None


def _matches(pattern: re.Pattern[str], text: str, field: str, what: str) -> None:
    if pattern.fullmatch(text) is None:
        raise ValueError(f"{field}: {shown(text)} is not {what}")


def _schema_reason(message: str) -> str:
    """msgspec's ``Expected `str`, got `int` - at `$.moved[0].from``` as ``moved[0].from: expected str, got int``."""
    text, _, where = message.partition(" - at `$")
    field = where.rstrip("`").lstrip(".")
    text = text.replace("`", "")
    return f"{field}: {text[:1].lower()}{text[1:]}" if field else f"{text[:1].lower()}{text[1:]}"


def moved_blocks(record: ReleaseRecord, declared: set[str] | frozenset[str] = frozenset()) -> tuple[Block, ...]:
    """The ``moved`` blocks a released module carries, oldest first: structured nodes (two
    :class:`~ssm_profile.tfmodule.document.ResourceAddress` values), never text.

    A move whose source the module still ``declared`` is refused: Terraform rejects it ("Moved
    object still exists"), and :func:`~ssm_profile.release.publish.accumulate_moves` never keeps one.
    """
    for index, move in enumerate(record.moved):
        if move.source in declared:
            raise OutputError(
                f"{RELEASE_FILE}: moved[{index}].from: {move.source} is still declared by the module; "
                "a moved block's source must be gone (restore the record from version control)"
            )
    return tuple(move.block() for move in record.moved)


def changelog_text(record: ReleaseRecord, header: str) -> str:
    """The module's CHANGELOG.md: every release's entry, newest first."""
    intro = (
        f"<!-- {header} -->\n# Changelog\n\n"
        "Releases of this module, newest first: the resources it creates and the permissions it grants,\n"
        "as `ssm-profile release` found them changed since the release before.\n"
    )
    return intro + "".join("\n" + entry.text() for entry in record.changelog)


def read_release_record(out: str | Path) -> ReleaseRecord | None:
    """The release record in ``out``, validated; None when the module was never released."""
    path = Path(out) / RELEASE_FILE
    try:
        data = read_bytes(path, RELEASE_RECORD, missing_ok=True)
    except SpecError as error:  # the bounded reader's words: a folder, a FIFO, too large ...
        raise OutputError(str(error)) from None
    return None if data is None else ReleaseRecord.from_json(data, str(path))
