"""Versioned releases of a generated module: what changed since the last release, and how to upgrade.

A release compares the module a spec generates now with the module's release record
(:mod:`ssm_profile.release.record`, written only by ``ssm-profile release``).
:mod:`ssm_profile.release.changes` classifies the change; the version must be at least what that level
requires (:mod:`ssm_profile.release.versions`). Everything here is pure except
:func:`read_release_source` and :func:`release_module`, the ``release`` command's edge: it reads
OUT, regenerates it and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ..errors import CheckFailed, OutputError, SpecError
from ..grants.build import Grants, build_grants
from ..output import transaction as outfolder
from ..output.manifest import MANIFEST_FILE, RELEASE_FILE, read_manifest
from ..output.transaction import Notify, exclusive_lock, finish_interrupted_write
from ..output.writer import write_module
from ..pipeline import generate
from ..spec.load import load_spec
from ..tfmodule.build import module_document
from ..tfmodule.document import Document
from .changes import Assessment, assess, describe_tag_change, diff_releases
from .interface import module_interface
from .inventory import grant_pairs, inventory
from .record import CHANGELOG_FILE, ChangelogEntry, Move, ReleaseRecord, read_release_record
from .versions import Level, Version, allows, next_version

__all__ = [
    "BUMPS",
    "CHANGELOG_FILE",
    "RELEASE_FILE",
    "Move",
    "Release",
    "ReleaseRecord",
    "ReleaseSource",
    "accumulate_moves",
    "assess_release",
    "changelog_lines",
    "choose_version",
    "read_release_record",
    "read_release_source",
    "release_module",
    "release_record",
]

BUMPS = ("auto", "major", "minor", "patch")


# -- Choosing the version ---------------------------------------------------------------------


def require_one_version_choice(version: str | None, bump: str | None) -> None:
    """:class:`SpecError` unless exactly one of ``version`` and ``bump`` is given, saying which fault it is."""
    if version is None and bump is None:
        raise SpecError("--version", "give the release's version: --version X.Y.Z, or --bump auto|major|minor|patch to pick it")
    if version is not None and bump is not None:
        raise SpecError("--version", "give either --version X.Y.Z or --bump auto|major|minor|patch, not both")


def choose_version(
    previous: ReleaseRecord | None, assessment: Assessment, version: str | None = None, bump: str | None = None
) -> str:
    """The release's version: ``version`` checked against the change, or the one ``bump`` names.

    ``bump`` is ``auto`` (the smallest version the change allows) or the number to bump
    (``major``, ``minor``, ``patch``). Raises :class:`SpecError` for a malformed or not
    increasing version, and :class:`CheckFailed` (exit 1) when the version is too low for the
    change, with one line per reason. The first release may be any version.
    """
    require_one_version_choice(version, bump)
    last = Version.parse(previous.version, "version") if previous else None
    if bump is not None:
        if bump not in BUMPS:
            raise SpecError("--bump", f"{bump!r} is not a bump; allowed: {', '.join(BUMPS)}")
        if bump == "auto":
            return next_version(last, assessment.level if last else Level.MINOR).text
        chosen = _bump_place(last, Level.parse(bump))
    else:
        chosen = Version.parse(version or "")
        if last is not None and chosen <= last:
            raise SpecError("--version", f"{version} is not greater than the last release {last}")
    if last is not None and not allows(last, chosen, assessment.level):
        announced = next((level for level in (Level.MAJOR, Level.MINOR) if allows(last, chosen, level)), Level.PATCH)
        pre = " (before 1.0.0 a breaking change bumps the minor number)" if last.core[0] == 0 and assessment.level is Level.MAJOR else ""
        lines = [
            f"{chosen} is too low: the change since {last} is {assessment.level.label}, so the release must be at "
            f"least {next_version(last, assessment.level)}{pre}; --bump auto picks it. Reasons:",
            *(reason.line() for reason in assessment.above(announced)),
        ]
        raise CheckFailed("\n".join(lines))
    return chosen.text


def _bump_place(last: Version | None, place: Level) -> Version:
    """The literal number bumped, as ``cargo release major`` or ``npm version major`` do: 0.3.1 -> 1.0.0."""
    major, minor, patch = last.core if last else (0, 0, 0)
    core = {Level.MAJOR: (major + 1, 0, 0), Level.MINOR: (major, minor + 1, 0), Level.PATCH: (major, minor, patch + 1)}[place]
    return Version.parse(".".join(map(str, core)))


# -- The record of a release ------------------------------------------------------------------


def assess_release(document: Document, grants: Grants, previous: ReleaseRecord | None) -> Assessment:
    """What releasing the module of ``document`` and ``grants`` after ``previous`` changes, its level and why."""
    resources = inventory(document)
    old = previous.inventory if previous else None
    changes = diff_releases(old, previous.grants if previous else {}, resources, grant_pairs(grants))
    return assess(
        changes,
        old or {},
        resources,
        previous.interface if previous else None,
        module_interface(document, grants),
        previous.version if previous else "",
        tag_change=describe_tag_change(previous.tags if previous else None, grants.tags),
    )


def release_record(
    document: Document,
    grants: Grants,
    *,
    format: str,
    previous: ReleaseRecord | None,
    version: str | None = None,
    bump: str | None = None,
) -> tuple[ReleaseRecord, Assessment]:
    """The record of releasing the module of ``document`` and ``grants`` after ``previous``, and its assessment.

    Give ``version`` or ``bump``: :func:`choose_version` raises when the version is malformed,
    not greater than the last, or too low for the change. ``format`` (``hcl`` or ``json``)
    names the moved file in the changelog.
    """
    assessment = assess_release(document, grants, previous)
    version = choose_version(previous, assessment, version, bump)
    resources = inventory(document)
    moves = tuple(Move(source, target, version) for source, target, _ in assessment.changes.moved)
    moved = accumulate_moves(previous.moved if previous else (), moves, resources)
    moved_file = "moved.tf.json" if format == "json" else "moved.tf"
    entry = ChangelogEntry(version, changelog_lines(assessment, moved_file, previous.version if previous else ""))
    record = ReleaseRecord(
        version=version,
        inventory=resources,
        grants=grant_pairs(grants),
        moved=moved,
        changelog=(entry, *(previous.changelog if previous else ())),
        interface=module_interface(document, grants),
        tags=dict(grants.tags),
    )
    return record, assessment


def changelog_lines(assessment: Assessment, moved_file: str, previous_version: str = "") -> tuple[str, ...]:
    """The Markdown lines of one release's changelog entry (without its heading).

    A breaking release (and only a later one: the first release is exempt) opens with
    "Breaking changes": one numbered step per reason, what a caller changes in its root.
    """
    changes = assessment.changes
    lines: list[str] = []

    def section(title: str, items: list[str], intro: str = "") -> None:
        if items:
            lines.extend([f"### {title}", "", *([intro, ""] if intro else []), *items, ""])

    if changes.first:
        lines += [f"First release: {len(changes.added)} resources.", ""]
    elif changes.is_empty and not assessment.interface_reasons:
        lines += ["No change to the generated resources, grants or interface (its README or tests may differ).", ""]
    section(
        "Breaking changes",
        [f"{n}. **{reason.text}.** {reason.step}".rstrip() for n, reason in enumerate(assessment.breaking, 1)],
        f"A root module written for {previous_version} breaks or loses something with this release. To upgrade:",
    )
    section("Interface", [f"- {reason.text}" for reason in assessment.interface_reasons if reason.level is not Level.MAJOR])
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
            f"- `{address}`: {assessment.attribute_text(attributes)}" + (" (Terraform replaces it)" if replaced else "")
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


def accumulate_moves(previous: tuple[Move, ...], new: tuple[Move, ...], addresses: set[str] | dict[str, Any]) -> tuple[Move, ...]:
    """Earlier ``moved`` blocks kept for consumers still on older releases, plus ``new`` ones.

    Terraform recommends keeping moved blocks; it rejects one whose source is declared again
    (a later release moved the resource back) and two with the same source or target, so
    those earlier blocks are dropped: the newer block covers them.
    """
    sources, targets = {m.source for m in new}, {m.target for m in new}
    kept = tuple(m for m in previous if m.source not in addresses and m.source not in sources and m.target not in targets)
    return kept + new


# -- The edge: releasing the module in OUT ---------------------------------------------------


@dataclass(frozen=True)
class ReleaseSource:
    """What OUT's manifest says generated it: the spec (resolved from OUT) and the options."""

    spec: Path
    format: str
    engine: str
    files: tuple[str, ...]


def read_release_source(out: str | Path) -> ReleaseSource:
    """Read OUT's manifest; raises :class:`SpecError` when OUT is not a generated module or its spec is gone.

    A malformed manifest is an :class:`OutputError` naming it (see :mod:`ssm_profile.output.manifest`).
    """
    out = Path(out)
    manifest = read_manifest(out)
    if manifest is None:
        raise SpecError(str(out), f"not a module generated by ssm-profile (no {MANIFEST_FILE}); generate it first")
    if manifest.kind != "module":
        raise SpecError(str(out), f"holds {manifest.describe()}, not a module; release the fleet's shared module instead")
    path = out / manifest.spec
    if not path.is_file():
        raise SpecError(
            str(out / MANIFEST_FILE), f"spec {manifest.spec!r} (relative to {out}) does not exist; regenerate from the spec's new place"
        )
    return ReleaseSource(spec=path, format=manifest.format, engine=manifest.engine, files=tuple(manifest.files))


class Release(msgspec.Struct, frozen=True):
    """What :func:`release_module` did: the record it wrote, the assessment it released under,
    and the names of the files it wrote into OUT."""

    record: ReleaseRecord
    assessment: Assessment
    files: tuple[str, ...]


def release_module(
    out: str | Path,
    *,
    version: str | None = None,
    bump: str | None = None,
    force: bool = False,
    notify: Notify | None = None,
) -> Release:
    """Release the module in ``out`` (what ``ssm-profile release`` does).

    Regenerates OUT from the spec, format and engine its manifest names, classifies the change
    since OUT's release record, checks ``version`` (or picks the one ``bump`` names, see
    :func:`choose_version`) and writes the module with its version, CHANGELOG.md, moved blocks
    and new record. Raises :class:`SpecError` for a bad version or OUT without a module,
    :class:`CheckFailed` when the version is too low for the change, and :class:`OutputError`
    when a CHANGELOG.md or moved file of the user's is in the way and ``force`` is not given.
    """
    require_one_version_choice(version, bump)
    if version is not None:
        Version.parse(version)
    out = Path(out)
    read_release_source(out)  # a folder that is no module stops here, before OUT is locked
    say: Notify = notify or (lambda message: None)
    # Read, decide and write under OUT's one lock: a release run beside this one reads the
    # record this one writes, so no release is lost from the history.
    with exclusive_lock(out, outfolder.LOCK_WAIT_SECONDS, say):
        finish_interrupted_write(out, say, locked=True)
        source = read_release_source(out)
        previous = read_release_record(out)
        grants = build_grants(load_spec(source.spec))
        record, assessment = release_record(
            module_document(grants), grants, format=source.format, previous=previous, version=version, bump=bump
        )
        module = generate(source.spec, module_dir=out, format=source.format, engine=source.engine, release=record)
        foreign = [n for n in (CHANGELOG_FILE, "moved.tf", "moved.tf.json") if n in module.files and (out / n).exists() and n not in source.files]
        if foreign and not force:
            raise OutputError(f"{out}: {', '.join(foreign)} exists and was not generated by ssm-profile; move it away or pass --force")
        write_module(module, out, force=force, notify=notify, locked=True)
    return Release(record=record, assessment=assessment, files=tuple(module.files))
