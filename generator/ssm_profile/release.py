"""Versioned releases of a generated module: what changed since the last release, and how to upgrade.

A release compares the module a spec generates now with the module's release record
(:data:`RELEASE_FILE`, written only by ``ssm-profile release``): the record holds the released
version, the resource inventory and grants of that release, the ``moved`` blocks gathered over
all releases, and the changelog. Everything here is pure except :func:`read_release_record` and
:func:`read_release_source`, the two readers the CLI calls at its edge.

The inventory is computed from the Terraform document, never by parsing HCL. Each resource is
known by its address and by its *identity*: its type plus the attributes that name the real
object in AWS (see :data:`IDENTITY_ATTRIBUTES`). A resource whose address went away while a
resource of the same identity appeared under a new address has moved: a ``moved`` block tells
Terraform to keep the object instead of destroying and recreating it
(https://developer.hashicorp.com/terraform/language/modules/develop/refactoring).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .document import Bare, Block, Document, Expr, Template, is_nested_blocks
from .errors import OutputError, SpecError
from .grants import Grants

if TYPE_CHECKING:
    from .pipeline import GeneratedModule

RELEASE_FILE = ".ssm-profile-release.json"
CHANGELOG_FILE = "CHANGELOG.md"
RECORD_FORMAT = 1

#: Attributes that name the real AWS object a resource manages. All of them force replacement
#: in hashicorp/aws when they change, so the same identity under a new address is a move.
IDENTITY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_role": ("name",),
    "aws_iam_instance_profile": ("name",),
    "aws_iam_policy": ("name",),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    "aws_vpc_endpoint": ("service_name",),
    "aws_ssm_service_setting": ("setting_id",),
}

#: Meta-arguments that change how Terraform plans, not what the resource is.
_META_ARGUMENTS = ("lifecycle", "depends_on")

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_REFERENCE = re.compile(
    r"(?<![\w.])(var\.[A-Za-z_][\w-]*|local\.[A-Za-z_][\w-]*|data\.[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*\.[A-Za-z_]\w*"
    r"|[a-z][a-z0-9]*_[\w-]*\.[A-Za-z_][\w-]*\.[A-Za-z_]\w*)"
)


@dataclass(frozen=True, order=False)
class Version:
    """A semantic version (https://semver.org), ordered by semver precedence."""

    text: str
    key: tuple[Any, ...] = field(compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, field_path: str = "--version") -> "Version":
        """Parse ``text``; raises :class:`SpecError` naming ``field_path`` when it is not semver."""
        match = _SEMVER.match(text)
        if not match:
            hint = " (drop the leading v)" if _SEMVER.match(text[1:]) and text[:1] in "vV" else ""
            raise SpecError(field_path, f"{text!r} is not a semantic version MAJOR.MINOR.PATCH such as 1.2.0{hint}")
        major, minor, patch, pre, _build = match.groups()
        if pre is None:
            pre_key: tuple[Any, ...] = (1,)
        else:
            pre_key = (0, *((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")))
        return cls(text, (int(major), int(minor), int(patch), pre_key))

    def __lt__(self, other: "Version") -> bool:
        return self.key < other.key

    def __le__(self, other: "Version") -> bool:
        return self.key <= other.key

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Resource:
    """One resource of a module's inventory: its type, identity and a digest of each attribute."""

    type: str
    identity: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...]

    def to_data(self) -> dict[str, Any]:
        """The resource as record JSON."""
        return {"type": self.type, "identity": dict(self.identity), "attributes": dict(self.attributes)}

    @property
    def identity_text(self) -> str:
        """The identity for a reader: ``role SSMServiceRole, policy_arn arn:...``."""
        return ", ".join(f"{key} `{value}`" for key, value in self.identity)


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

    def to_json(self) -> str:
        """The record file's text: stable, so regenerating reproduces it byte for byte."""
        data = {
            "//": "Release record of this module, written by `ssm-profile release`. Do not edit.",
            "format": RECORD_FORMAT,
            "version": self.version,
            "inventory": {address: self.inventory[address].to_data() for address in sorted(self.inventory)},
            "grants": {name: list(self.grants[name]) for name in sorted(self.grants)},
            "moved": [{"from": m.source, "to": m.target, "since": m.version} for m in self.moved],
            "changelog": [{"version": e.version, "lines": list(e.lines)} for e in self.changelog],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, path: str = RELEASE_FILE) -> "ReleaseRecord":
        """Parse a record file's text; raises :class:`OutputError` naming ``path`` when malformed."""
        try:
            data = json.loads(text)
            if data.get("format") != RECORD_FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {RECORD_FORMAT}")
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
        except (ValueError, KeyError, TypeError, AttributeError, SpecError) as exc:
            raise OutputError(f"{path}: not a valid release record ({exc}); restore it from version control") from None
        return cls(version=data["version"], inventory=inventory, grants=grants, moved=moved, changelog=changelog)


# -- The inventory: computed from the document and the grants, never from HCL text ----------------


def inventory(document: Document) -> dict[str, Resource]:
    """Every managed resource of ``document`` by address, with its identity and attribute digests.

    References are resolved before digesting: to a local's value, a data source's body, or a
    resource's literal attribute (else the resource's identity), so renaming a resource does
    not count as a change of the resources that refer to it.
    """
    index = {block.address: block for block in document.blocks if block.kind in ("resource", "data")}
    locals_ = {key: value for block in document.of_kind("locals") for key, value in block.body.items()}
    # A module input (`[module] variables`) stands for its default: making a name an input
    # changes nothing a plan with the defaults creates.
    locals_.update(
        {f"var.{b.labels[0]}": b.body["default"] for b in document.of_kind("variable") if isinstance(b.body.get("default"), (str, int))}
    )
    resolver = _Resolver(index, locals_)
    resources = {}
    for block in document.of_kind("resource"):
        resources[block.address] = Resource(
            type=block.labels[0],
            identity=resolver.identity(block),
            attributes=tuple(
                (key, _digest(resolver.value(value)))
                for key, value in sorted(block.body.items())
                if key not in _META_ARGUMENTS
            ),
        )
    return dict(sorted(resources.items()))


def grant_pairs(grants: Grants) -> dict[str, tuple[str, ...]]:
    """Per custom policy (by name): every ``action resource`` pair it allows, sorted."""
    return {
        policy.name: tuple(
            sorted({f"{action} {resource}" for statement in policy.statements for action in statement.actions for resource in statement.resources})
        )
        for policy in grants.custom_policies
    }


class _Resolver:
    def __init__(self, index: dict[str, Block], locals_: dict[str, Any]) -> None:
        self.index = index
        self.locals = locals_

    def identity(self, block: Block, seen: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...]:
        keys = IDENTITY_ATTRIBUTES.get(block.labels[0], ())
        return tuple((key, _text(self.value(block.body.get(key), seen | {block.address}))) for key in keys)

    def value(self, value: Any, seen: frozenset[str] = frozenset()) -> Any:
        if is_nested_blocks(value):
            return [self.body(child.body, seen) for child in value]
        if isinstance(value, Block):
            return self.body(value.body, seen)
        if isinstance(value, (Expr, Template)):
            return _REFERENCE.sub(lambda m: self.reference(m.group(1), seen), value.text)
        if isinstance(value, Bare):
            return value.text
        if isinstance(value, list):
            return [self.value(item, seen) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item, seen) for key, item in value.items()}
        return value

    def body(self, body: dict[str, Any], seen: frozenset[str]) -> dict[str, Any]:
        return {key: self.value(value, seen) for key, value in body.items() if key not in _META_ARGUMENTS}

    def reference(self, ref: str, seen: frozenset[str]) -> str:
        parts = ref.split(".")
        if parts[0] == "var":
            return _text(self.locals[ref]) if ref in self.locals else ref
        if parts[0] == "local":
            if parts[1] not in self.locals or ref in seen:
                return ref
            return _text(self.value(self.locals[parts[1]], seen | {ref}))
        if parts[0] == "data":
            address = ".".join(parts[:3])
            if address not in self.index or address in seen:
                return ref
            return _text(self.body(self.index[address].body, seen | {address}))
        address, attribute = ".".join(parts[:2]), parts[2]
        target = self.index.get(address)
        if target is None or address in seen:
            return ref
        value = target.body.get(attribute)
        if value is not None and not is_nested_blocks(value):
            return _text(self.value(value, seen | {address}))
        identity = ",".join(f"{k}={v}" for k, v in self.identity(target, seen))
        return f"{parts[0]}[{identity}].{attribute}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _digest(value: Any) -> str:
    return hashlib.sha256(_text(value).encode()).hexdigest()[:16]


# -- What changed between two releases --------------------------------------------------------


@dataclass(frozen=True)
class ReleaseChanges:
    """What a release changes in the generated resources and grants, since the previous release."""

    first: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # address, attributes, identity changed
    moved: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # from, to, attributes changed too
    grants_added: dict[str, tuple[str, ...]] = field(default_factory=dict)
    grants_removed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.added or self.removed or self.changed or self.moved or self.grants_added or self.grants_removed)


def detect_moves(old: dict[str, Resource], new: dict[str, Resource]) -> list[tuple[str, str]]:
    """(from, to) for each resource that left an address while one of its identity appeared at another.

    Only addresses gone from ``new`` can be a move's source: Terraform rejects a ``moved``
    block whose source is still declared. A resource type without identifying attributes, or
    an identity held by more than one resource, is never matched.
    """
    gone = [a for a in old if a not in new]
    arrived = [a for a in new if a not in old]

    def key(resource: Resource) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        return (resource.type, resource.identity) if resource.identity else None

    old_keys = [key(old[a]) for a in gone]
    new_keys = [key(new[a]) for a in arrived]
    moves = []
    for address in gone:
        wanted = key(old[address])
        if wanted is None or old_keys.count(wanted) != 1 or new_keys.count(wanted) != 1:
            continue
        moves.append((address, arrived[new_keys.index(wanted)]))
    return moves


def _changed_attributes(old: Resource, new: Resource) -> tuple[str, ...]:
    before, after = dict(old.attributes), dict(new.attributes)
    return tuple(sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key)))


def diff_releases(previous: ReleaseRecord | None, resources: dict[str, Resource], grants: dict[str, tuple[str, ...]]) -> ReleaseChanges:
    """What changed from ``previous`` (None: the first release) to ``resources`` and ``grants``."""
    if previous is None:
        return ReleaseChanges(first=True, added=tuple(resources), grants_added={k: v for k, v in grants.items() if v})
    old = previous.inventory
    moves = detect_moves(old, resources)
    moved_from, moved_to = {m[0] for m in moves}, {m[1] for m in moves}
    changed = []
    for address in sorted(old.keys() & resources.keys()):
        attributes = _changed_attributes(old[address], resources[address])
        if attributes:
            changed.append((address, attributes, old[address].identity != resources[address].identity))
    grants_added, grants_removed = {}, {}
    for name in sorted(previous.grants.keys() | grants.keys()):
        before, after = set(previous.grants.get(name, ())), set(grants.get(name, ()))
        if after - before:
            grants_added[name] = tuple(sorted(after - before))
        if before - after:
            grants_removed[name] = tuple(sorted(before - after))
    return ReleaseChanges(
        first=False,
        added=tuple(a for a in resources if a not in old and a not in moved_to),
        removed=tuple(a for a in old if a not in resources and a not in moved_from),
        changed=tuple(changed),
        moved=tuple((source, target, _changed_attributes(old[source], resources[target])) for source, target in moves),
        grants_added=grants_added,
        grants_removed=grants_removed,
    )


def accumulate_moves(previous: tuple[Move, ...], new: tuple[Move, ...], addresses: set[str] | dict[str, Any]) -> tuple[Move, ...]:
    """Earlier ``moved`` blocks kept for consumers still on older releases, plus ``new`` ones.

    Terraform recommends keeping moved blocks; it rejects one whose source is declared again
    (a later release moved the resource back) and two with the same source or target, so
    those earlier blocks are dropped: the newer block covers them.
    """
    sources, targets = {m.source for m in new}, {m.target for m in new}
    kept = tuple(m for m in previous if m.source not in addresses and m.source not in sources and m.target not in targets)
    return kept + new


def changelog_lines(changes: ReleaseChanges, moved_file: str) -> tuple[str, ...]:
    """The Markdown lines of one release's changelog entry (without its heading)."""
    lines: list[str] = []

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.extend([f"### {title}", "", *items, ""])

    if changes.first:
        lines += [f"First release: {len(changes.added)} resources.", ""]
    elif changes.is_empty:
        lines += ["No change to the generated resources or grants.", ""]
    section("Added", [f"- `{a}`" for a in changes.added])
    section("Removed", [f"- `{a}`: Terraform destroys it" for a in changes.removed])
    section(
        "Moved",
        [
            f"- `{source}` → `{target}`: a `moved` block in `{moved_file}` keeps the object (no destroy/create)"
            + (f"; changed: {', '.join(attributes)}" if attributes else "")
            for source, target, attributes in changes.moved
        ],
    )
    section(
        "Changed",
        [
            f"- `{address}`: {', '.join(attributes)}" + (" (identifying attribute: Terraform replaces it)" if replaced else "")
            for address, attributes, replaced in changes.changed
        ],
    )
    grants: list[str] = []
    if changes.first:
        grants = [f"- `{name}`: {len(pairs)} action/resource pairs" for name, pairs in changes.grants_added.items()]
    else:
        for verb, table in (("added", changes.grants_added), ("removed", changes.grants_removed)):
            for name, pairs in table.items():
                for pair in pairs:
                    action, resource = pair.split(" ", 1)
                    grants.append(f"- `{name}`: {verb} `{action}` on `{resource}`")
    section("Grants", grants)
    while lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


def release_record(
    module: "GeneratedModule", version: str, previous: ReleaseRecord | None
) -> tuple[ReleaseRecord, ReleaseChanges]:
    """The record of releasing ``module`` as ``version`` after ``previous``, and what changed.

    Raises :class:`SpecError` when ``version`` is not semver or not greater than the last release.
    """
    parsed = Version.parse(version)
    if previous is not None and parsed <= Version.parse(previous.version, "version"):
        raise SpecError("--version", f"{version} is not greater than the last release {previous.version}")
    resources = inventory(module.document)
    grants = grant_pairs(module.grants)
    changes = diff_releases(previous, resources, grants)
    moves = tuple(Move(source, target, version) for source, target, _ in changes.moved)
    moved = accumulate_moves(previous.moved if previous else (), moves, resources)
    moved_file = "moved.tf.json" if module.format == "json" else "moved.tf"
    entry = ChangelogEntry(version, changelog_lines(changes, moved_file))
    record = ReleaseRecord(
        version=version,
        inventory=resources,
        grants=grants,
        moved=moved,
        changelog=(entry, *(previous.changelog if previous else ())),
    )
    return record, changes


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


# -- The edge: reading what OUT holds ---------------------------------------------------------


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


@dataclass(frozen=True)
class ReleaseSource:
    """What OUT's manifest says generated it: the spec (resolved from OUT) and the options."""

    spec: Path
    format: str
    engine: str
    files: tuple[str, ...]


def read_release_source(out: str | Path) -> ReleaseSource:
    """Read OUT's manifest; raises :class:`SpecError` when OUT is not a generated module or its spec is gone."""
    from .pipeline import MANIFEST

    out = Path(out)
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        spec, format, engine = manifest["spec"], manifest["format"], manifest.get("engine", "native")
    except FileNotFoundError:
        raise SpecError(str(out), f"not a module generated by ssm-profile (no {MANIFEST}); generate it first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpecError(str(out / MANIFEST), f"unreadable manifest ({exc}); regenerate the module") from None
    path = out / spec
    if not path.is_file():
        raise SpecError(str(out / MANIFEST), f"spec {spec!r} (relative to {out}) does not exist; regenerate from the spec's new place")
    return ReleaseSource(spec=path, format=format, engine=engine, files=tuple(manifest.get("files", {})))
