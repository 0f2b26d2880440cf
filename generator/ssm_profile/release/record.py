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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputError, SpecError
from ..output.manifest import RELEASE_FILE
from ..tfmodule.document import Bare, Block
from .interface import Interface
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
            body={"from": Bare(self.source), "to": Bare(self.target)},
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
    def from_json(cls, text: str, path: str = RELEASE_FILE) -> ReleaseRecord:
        """Parse a record file's text; raises :class:`OutputError` naming ``path`` when malformed."""
        try:
            data = json.loads(text)
            if data.get("format") not in RECORD_FORMATS:
                raise ValueError(f"format {data.get('format')!r} is not one of {', '.join(map(str, RECORD_FORMATS))}")
            Version.parse(data["version"], "version")
            inventory = {
                address: Resource(
                    type=str(entry["type"]),
                    identity=tuple((str(k), str(v)) for k, v in entry["identity"].items()),
                    attributes=tuple((str(k), str(v)) for k, v in entry["attributes"].items()),
                )
                for address, entry in data["inventory"].items()
            }
            grants = {str(name): tuple(str(p) for p in pairs) for name, pairs in data["grants"].items()}
            moved = tuple(Move(str(m["from"]), str(m["to"]), str(m["since"])) for m in data["moved"])
            changelog = tuple(ChangelogEntry(str(e["version"]), tuple(str(line) for line in e["lines"])) for e in data["changelog"])
            interface = Interface.from_data(data["interface"]) if data["format"] >= 2 else None
            tags = {str(k): str(v) for k, v in data["tags"].items()} if "tags" in data else None
        except (ValueError, KeyError, TypeError, AttributeError, SpecError) as exc:
            raise OutputError(f"{path}: not a valid release record ({exc}); restore it from version control") from None
        return cls(
            version=data["version"], inventory=inventory, grants=grants, moved=moved, changelog=changelog, interface=interface, tags=tags
        )


def moved_blocks(record: ReleaseRecord) -> tuple[Block, ...]:
    """The ``moved`` blocks a released module carries, oldest first."""
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
    """The release record in ``out``, or None when the module was never released."""
    path = Path(out) / RELEASE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"{path}: unreadable release record ({exc})") from None
    return ReleaseRecord.from_json(text, str(path))

