"""Stage 5 of the pipeline: putting a generated module on disk without losing anything.

OUT is a folder users share with the module (``.terraform/``, lock files, notes, CI files), so
the writer follows git's discipline (see :mod:`ssm_profile.output.transaction` for the mechanics):

- an exclusive lock (``.ssm-profile.lock``, ``fcntl.flock``) is held while OUT is written; a
  second run waits briefly, then stops with :class:`OutputError`;
- every generated file is written to a temporary file beside it and fsynced; a journal listing
  them is committed; then each is renamed over its target (``os.replace``), the manifest last,
  and the journal removed. A run killed before the commit leaves the old module, one killed
  after it leaves a journal the next run completes: OUT holds the old or the new module, and
  OUT itself is never moved, replaced or missing;
- only files with generated names are ever written, and only files the previous manifest lists,
  unchanged since generation, are ever removed. Anything else at a generated name stops the
  write unless ``force``; folders and links at a generated name always stop it.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from ..errors import CheckFailed, OutputError
from ..render.tfdocs import comparable_text
from . import transaction as outfolder
from .generated import GeneratedModule
from .manifest import MANIFEST_FILE, Manifest, decode_manifest, read_manifest, sha256_hex
from .transaction import (
    JOURNAL_FILE,
    LOCK_FILE,
    Journal,
    Notify,
    apply_journal,
    exclusive_lock,
    finish_interrupted_write,
    flush_temporary_files,
    remove_temporary_files,
    restore_missing_folder,
    signals_deferred,
    write_journal,
    write_temporary,
)

__all__ = [
    "JOURNAL_FILE",
    "LOCK_FILE",
    "check_writable",
    "finish_interrupted_write",
    "hand_edited",
    "module_differences",
    "output_folder",
    "require_module_current",
    "update_module",
    "write_module",
]


def _unchanged(name: str, data: bytes, digest: str) -> bool:
    """Whether ``data`` is what was generated as ``name`` with manifest hash ``digest``."""
    # README.md's terraform-docs block is not hashed (terraform-docs may rewrite it); manifests
    # written before that hashed the whole file.
    comparable = comparable_text(name, data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    return digest in (sha256_hex(comparable), sha256_hex(data))


def output_folder(out: str | Path) -> Path:
    """``out`` as the module folder to write, or :class:`OutputError` when it can never be one."""
    if isinstance(out, str) and not out.strip():
        raise OutputError("OUT: an empty path names no folder; give the module folder (. for the current one)")
    path = Path(out)
    if path.is_symlink() and not path.exists():
        raise OutputError(
            f"{path}: a symbolic link to {os.readlink(path)}, which does not exist or cannot be followed; "
            "create that folder or point the link at one"
        )
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder")
    return path


def hand_edited(out: str | Path) -> list[str]:
    """Files of the module at ``out`` whose content no longer matches the manifest."""
    manifest = read_manifest(out)
    if manifest is None:
        return []
    return [name for name, digest in sorted(manifest.files.items()) if _state(Path(out), name, digest) == "edited"]


def _state(out: Path, name: str, generated_digest: str | None) -> str:
    """``absent``, ``unchanged`` (matches ``generated_digest``), ``edited``, ``foreign`` or ``not-a-file``."""
    path = out / name
    try:
        if not path.is_file() or path.is_symlink():
            return "not-a-file" if os.path.lexists(path) else "absent"
    except OSError:
        return "not-a-file"
    if generated_digest is None:
        return "foreign"
    return "unchanged" if _unchanged(name, path.read_bytes(), generated_digest) else "edited"


class _WritePlan(msgspec.Struct):  # not a dataclass: nothing compiled at import
    """What a write changes in OUT, decided before anything is written."""

    # Empty defaults are copied for each plan (msgspec copies empty mutable defaults).
    writes: dict[str, bytes] = {}  # name -> bytes, the manifest last
    removals: list[tuple[str, str]] = []  # name, SHA-256 of what is removed
    blocked: list[str] = []  # never written over, even with force
    foreign: list[str] = []
    edited: list[str] = []


def _plan_write(module: GeneratedModule, out: Path, force: bool, say: Notify) -> _WritePlan:
    try:
        previous = read_manifest(out)
    except OutputError:
        if not force:
            raise
        say(f"{out / MANIFEST_FILE}: not a valid manifest; --force regenerates over it, writing only generated names")
        previous = None
    if previous is not None and not force and MANIFEST_FILE in module.files:
        _refuse_other_source(previous, decode_manifest(module.files[MANIFEST_FILE]), out)
    generated = previous.files if previous else {}
    plan = _WritePlan()
    names = sorted(module.files, key=lambda name: name == MANIFEST_FILE)  # the manifest last
    for name in names:
        data = module.files[name].encode()
        blocker = _blocking_parent(out, name)
        if blocker:
            plan.blocked.append(f"{blocker} is not a folder")
            continue
        path = out / name
        state = _state(out, name, generated.get(name))
        if state == "not-a-file":
            plan.blocked.append(f"{name} is a folder or link, not a file ssm-profile generated")
            continue
        if state != "absent" and path.read_bytes() == data:
            continue  # already what would be written
        if state == "foreign" and name != MANIFEST_FILE:  # a corrupt manifest is ours to replace under --force
            plan.foreign.append(name)
        elif state == "edited":
            plan.edited.append(name)
        plan.writes[name] = data
    for name in sorted(set(generated) - set(module.files)):
        state = _state(out, name, generated[name])
        if state == "edited":
            plan.edited.append(name)
        if state in ("unchanged", "edited"):
            plan.removals.append((name, sha256_hex((out / name).read_bytes())))
    _refuse(plan, out, force)
    return plan


def _refuse_other_source(previous: Manifest, new: Manifest, out: Path) -> None:
    """Stop a run that would replace a folder of another kind or source (``generate`` over a
    fleet's LIVE folder, ``fleet`` over a module, a module of another spec): its generated
    files would be removed, and a released module's history with them."""
    if (previous.kind, previous.spec if previous.kind == "module" else previous.fleet) == (
        new.kind,
        new.spec if new.kind == "module" else new.fleet,
    ):
        return
    raise OutputError(
        f"{out}: holds {previous.describe()}, and this run writes {new.describe()}; choose another folder, "
        "or pass --force to replace it (nothing was written)"
    )


def _blocking_parent(out: Path, name: str) -> str:
    """The first folder of ``name`` inside ``out`` that exists and is not a folder; empty if none."""
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = out.joinpath(*parts[:depth])
        if os.path.lexists(folder) and not folder.is_dir():
            return "/".join(parts[:depth])
    return ""


def _refuse(plan: _WritePlan, out: Path, force: bool) -> None:
    if plan.blocked:
        raise OutputError(f"{out}: {'; '.join(plan.blocked)}; move it away to generate here (nothing was written)")
    if force:
        return
    if plan.foreign:
        raise OutputError(
            f"{out}: {', '.join(plan.foreign)} exists and was not generated by ssm-profile (not in {MANIFEST_FILE}); "
            "move it away, or pass --force to overwrite it (nothing was written)"
        )
    if plan.edited:
        raise OutputError(
            f"{out}: {', '.join(plan.edited)} edited by hand since generation; move the change into the spec, "
            "or pass --force to overwrite (nothing was written)"
        )


def check_writable(module: GeneratedModule, out: str | Path, *, force: bool = False) -> None:
    """Raise what :func:`write_module` would raise before writing ``module`` into ``out``, and write
    nothing: a caller writing several folders checks them all before it writes the first."""
    out = output_folder(out)
    if out.is_dir():
        _plan_write(module, out, force, lambda message: None)


def write_module(
    module: GeneratedModule,
    out: str | Path,
    *,
    force: bool = False,
    notify: Notify | None = None,
    lock_wait: float | None = None,
    locked: bool = False,
) -> Path:
    """Write ``module`` into the folder ``out``: :func:`update_module`, returning ``out``."""
    update_module(module, out, force=force, notify=notify, lock_wait=lock_wait, locked=locked)
    return Path(out)


def update_module(
    module: GeneratedModule,
    out: str | Path,
    *,
    force: bool = False,
    notify: Notify | None = None,
    lock_wait: float | None = None,
    locked: bool = False,
) -> tuple[str, ...]:
    """Write ``module`` into the folder ``out`` (created with the umask's mode if missing).
    Returns the names written or removed: empty when ``out`` already held the module.

    Files in ``out`` that the module does not generate are never touched. Refuses with
    :class:`OutputError`, writing nothing, when a file at a generated name was not generated
    by ssm-profile or was edited by hand since (unless ``force``: then it is overwritten), when
    ``out`` holds a folder of another kind or spec (a fleet's LIVE folder, a module of another
    spec; unless ``force``), or when a folder or link sits at a generated name. ``notify``
    receives one line per leftover of an interrupted run that was cleaned up. A symbolic link
    ``out`` is written through. ``lock_wait``: seconds to wait for another run writing ``out``
    (default :data:`~ssm_profile.output.transaction.LOCK_WAIT_SECONDS`). ``locked``: the caller
    holds OUT's lock already (:func:`~ssm_profile.output.transaction.exclusive_lock`), as
    ``release`` does to read its record and write under one lock. A run that fails leaves no
    folder it created (OUT included) behind.
    """
    say: Notify = notify or (lambda message: None)
    out = output_folder(out)
    restore_missing_folder(out, say)
    out = output_folder(out)
    created = [folder for folder in (out, *out.parents) if not os.path.lexists(folder)]
    out.mkdir(parents=True, exist_ok=True)
    try:
        if locked:
            return _write_locked(module, out, force, say)
        with exclusive_lock(out, outfolder.LOCK_WAIT_SECONDS if lock_wait is None else lock_wait, say):
            return _write_locked(module, out, force, say)
    except BaseException:
        for folder in created:  # deepest first; a folder holding anything now is kept
            try:
                os.rmdir(folder)
            except OSError:
                break
        raise


def _write_locked(module: GeneratedModule, out: Path, force: bool, say: Notify) -> tuple[str, ...]:
    """The write of :func:`update_module`, with OUT's lock held: the names written or removed."""
    finish_interrupted_write(out, say, locked=True, names=module.files)
    plan = _plan_write(module, out, force, say)
    if not plan.writes and not plan.removals:
        return ()
    journal = Journal(remove=plan.removals)
    try:
        for name, data in plan.writes.items():
            write_temporary(out, name, data, journal, flush=False)
        flush_temporary_files(out, journal)  # all at once: one disk flush, not one per file
    except BaseException:
        remove_temporary_files(out, journal)
        raise
    # From the commit to the last rename, Ctrl-C and SIGTERM wait: the run finishes the write.
    with signals_deferred():
        try:
            write_journal(out, journal)
        except BaseException:
            remove_temporary_files(out, journal)
            raise
        apply_journal(out, journal)
    return (*plan.writes, *(name for name, _ in plan.removals))


def module_differences(module: GeneratedModule, out: str | Path) -> list[str]:
    """One line per file where ``out`` differs from ``module``; empty when identical."""
    out = Path(out)
    lines = []
    manifest = read_manifest(out) if out.is_dir() else None
    for name, text in module.files.items():
        path = out / name
        if not path.is_file():
            lines.append(f"{name}: missing")
            continue
        current = comparable_text(name, path.read_bytes().decode("utf-8", errors="replace"))
        text = comparable_text(name, text)
        if current != text:
            import difflib  # only when a file differs: generate never needs it

            diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(), lineterm="", n=0))
            added = sum(1 for d in diff if d.startswith("+") and not d.startswith("+++"))
            removed = sum(1 for d in diff if d.startswith("-") and not d.startswith("---"))
            lines.append(f"{name}: differs (+{added} -{removed} lines)")
    for name in sorted(set(manifest.files if manifest else ()) - set(module.files)):
        if (out / name).exists():
            lines.append(f"{name}: no longer generated")
    if out.is_dir() and os.path.lexists(out / JOURNAL_FILE):
        lines.append(f"{JOURNAL_FILE}: an interrupted write is pending; run ssm-profile generate to complete it")
    return lines


def require_module_current(module: GeneratedModule, out: str | Path) -> None:
    """Raise :class:`CheckFailed` unless ``out`` is exactly ``module``."""
    differences = module_differences(module, out)
    if differences:
        raise CheckFailed(f"{out} is out of date with its spec: " + "; ".join(differences))

