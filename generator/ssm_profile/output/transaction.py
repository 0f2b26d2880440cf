"""The mechanics of writing into a folder users share: lock, temporary files, journal, recovery.

Every name this module creates in OUT is recognisable, so a later run can tell a leftover of
a killed run from a user's file:

- ``.ssm-profile.lock``: the lock file, removed by the run holding it;
- ``.<name>.ssm-profile-tmp-<12 hex>``: a file being written, beside its target;
- ``.ssm-profile.journal``: the committed list of temporary files to rename over their targets
  and of previously generated files to remove; present only between commit and completion;
- ``.<out>.new-<8>`` and ``.<out>.old-<8>`` beside OUT: the staging folders of the writer of
  ssm-profile 0.1.0, which moved OUT aside to swap a new folder in (:mod:`.legacy_staging`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import msgspec

from ..errors import OutputError
from .legacy_staging import merge_old_staging, restore_missing_folder
from .manifest import read_manifest, sha256_hex, unsafe_file_name

Notify = Callable[[str], None]

LOCK_FILE = ".ssm-profile.lock"
JOURNAL_FILE = ".ssm-profile.journal"
#: How long a run waits for another run on the same OUT before it gives up.
LOCK_WAIT_SECONDS = 10.0

# Every run looks at OUT's entries with this test, so it is a string check, not a regex compiled
# at each start-up.
_TEMPORARY_MARK = ".ssm-profile-tmp-"
_HEX = frozenset("0123456789abcdef")



def _is_temporary(name: str) -> bool:
    """Whether ``name`` is ``.<name>.ssm-profile-tmp-<12 hex>``, a temporary file of a write."""
    head, mark, token = name.rpartition(_TEMPORARY_MARK)
    return bool(mark) and len(head) >= 2 and head[0] == "." and len(token) == 12 and _HEX.issuperset(token)


class Journal(msgspec.Struct, kw_only=True):
    """A committed write: temporary files to rename over their targets, generated files to remove.

    ``write`` pairs each generated name with its temporary file's name (in the same folder),
    the manifest last; ``remove`` pairs each previously generated file with its SHA-256.
    """

    write: list[tuple[str, str]] = []
    remove: list[tuple[str, str]] = []
    created: list[str] = msgspec.field(default_factory=list)  # folders this run made (not saved)

    def __post_init__(self) -> None:
        for name, temporary in self.write:
            if unsafe_file_name(name) or not _is_temporary(temporary) or "/" in temporary:
                raise ValueError(f"write: {name!r} -> {temporary!r} is not a generated file and its temporary file")
        for name, _digest in self.remove:
            if unsafe_file_name(name):
                raise ValueError(f"remove: {name!r} is not a generated file")


# -- The lock ------------------------------------------------------------------------------


@contextmanager
def exclusive_lock(out: Path, wait: float, say: Notify) -> Iterator[None]:
    """Hold ``out/.ssm-profile.lock`` exclusively; waits up to ``wait`` seconds for another run."""
    path = out / LOCK_FILE
    deadline = time.monotonic() + wait
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW
    while True:
        try:
            fd, existed = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666), False
        except FileExistsError:
            try:
                fd, existed = os.open(path, flags), True
            except FileNotFoundError:  # its holder removed it in between
                continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise OutputError(f"{out}: another ssm-profile run holds OUT ({LOCK_FILE}); run again when it has finished") from None
            time.sleep(0.05)
            continue
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                os.close(fd)
                raise
            say(f"{path}: this file system cannot lock ({exc.strerror}); writing without a lock")
        if _same_file(fd, path):
            break
        os.close(fd)  # locked a file its holder had already removed: take the new one
    if existed:
        say(f"{path}: removed the lock file of an interrupted ssm-profile run")
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, current = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


# -- Writing: temporary files and the journal ------------------------------------------------


def write_temporary(out: Path, name: str, data: bytes, journal: Journal | None = None, *, flush: bool = True) -> str:
    """Write ``data`` to a new temporary file beside ``out/name``, fsynced; return its file name.

    ``flush=False`` leaves the fsync to the caller: :func:`flush_temporary_files` flushes a
    journal's files together, before :func:`write_journal` commits it.

    The file gets the mode of the file it will replace, else the umask's. With ``journal``, the
    file is listed in ``journal.write`` before it exists (so an interrupt at any point leaves
    nothing :func:`remove_temporary_files` does not know of) and folders made on the way in
    ``journal.created``.
    """
    created = journal.created if journal is not None else None
    target = out / name
    if not target.parent.is_dir():
        missing = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        if created is not None:
            created.extend(str(p) for p in missing)
    temporary = f".{target.name}{_TEMPORARY_MARK}{os.urandom(6).hex()}"  # secrets.token_hex(6), without its imports
    path = target.parent / temporary
    if journal is not None:
        journal.write.append((name, temporary))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    try:
        try:
            current = os.stat(target, follow_symlinks=False)
            if stat.S_ISREG(current.st_mode):
                os.fchmod(fd, stat.S_IMODE(current.st_mode))
        except FileNotFoundError:
            pass
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if flush:
            os.fsync(fd)
    except BaseException as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # write and fsync name no file: say which
            raise OSError(exc.errno, exc.strerror, str(target)) from None
        raise
    os.close(fd)
    return temporary


def flush_temporary_files(out: Path, journal: Journal) -> None:
    """fsync the temporary files of ``journal`` (written with ``flush=False``), all at once."""
    targets = {(out / name).parent / temporary: out / name for name, temporary in journal.write}
    try:
        _flush_together(list(targets), _fsync_file)
    except OSError as exc:  # name the file being written, as write_temporary does
        raise OSError(exc.errno, exc.strerror, str(targets.get(Path(exc.filename), exc.filename))) from None


def write_journal(out: Path, journal: Journal) -> None:
    """Commit ``journal``: from here on the write completes, now or in the next run."""
    # Once per folder, after all its temporary files exist: one fsync makes every entry durable,
    # and each is a disk flush (~2 ms here), so a module's eight files need two, not eight.
    _flush_together(list(dict.fromkeys((out / name).parent for name, _ in journal.write)), _fsync_folder)
    text = msgspec.json.encode(msgspec.structs.replace(journal, created=[]))
    temporary = write_temporary(out, JOURNAL_FILE, text)
    try:
        os.replace(out / temporary, out / JOURNAL_FILE)  # the commit
    except BaseException:
        (out / temporary).unlink(missing_ok=True)
        raise


def remove_temporary_files(out: Path, journal: Journal) -> None:
    """Undo an uncommitted write: remove its temporary files and the folders it created, if empty."""
    for name, temporary in journal.write:
        ((out / name).parent / temporary).unlink(missing_ok=True)
    for folder in sorted(journal.created, key=len, reverse=True):
        with suppress(OSError):
            os.rmdir(folder)


def apply_journal(out: Path, journal: Journal) -> None:
    """Rename each temporary file over its target, manifest last; remove files no longer generated.

    SIGINT and SIGTERM wait until this returns, so an interrupted run never stops half-way.
    Idempotent: a run that finds a journal applies it again.
    """
    with signals_deferred():
        try:
            _fsync_folder(out)  # the journal's rename is durable before any file is replaced
            folders = {out}
            for name, temporary in journal.write:
                target = out / name
                if os.path.lexists(target.parent / temporary):
                    os.replace(target.parent / temporary, target)
                folders.add(target.parent)
            for name, digest in journal.remove:
                path = out / name
                if path.is_file() and not path.is_symlink() and sha256_hex(path.read_bytes()) == digest:
                    path.unlink()
                    _remove_empty_folders(out, name)
                folders.add(path.parent)
            _flush_together([folder for folder in folders if folder.is_dir()], _fsync_folder)
            # Not flushed: every rename and removal above is durable already, so a journal that
            # a power cut brings back describes a finished write, and the next run's replay of it
            # renames nothing (its temporary files are gone) and removes nothing (the files are
            # gone or no longer match), like a second apply. One disk flush fewer per write.
            (out / JOURNAL_FILE).unlink(missing_ok=True)
        except OSError as exc:
            where = exc.filename or out
            raise OutputError(
                f"{where}: {exc.strerror or exc}; the new module is partly in place, and the next "
                "ssm-profile generate into this folder completes it"
            ) from None


def _remove_empty_folders(out: Path, name: str) -> None:
    parts = name.split("/")[:-1]
    for depth in range(len(parts), 0, -1):
        try:
            os.rmdir(out.joinpath(*parts[:depth]))
        except OSError:
            return


def _flush_together(paths: list[Path], fsync: Callable[[Path], None]) -> None:
    """``fsync(path)`` for every path at once (a thread each beyond the first); returns when all are done.

    Each fsync waits for the disk. Issued together, a journaling file system (ext4, XFS) commits
    them in one flush where one after the other costs a flush each: a module's eight files took
    24 ms one by one and 8 ms together on a shared disk here. Nothing is weaker: every path is
    flushed when this returns, before anything that relies on it (the journal, the renames).
    """
    failures: list[BaseException] = []

    def flush(path: Path) -> None:
        try:
            fsync(path)
        except OSError as exc:
            failures.append(exc if exc.filename else OSError(exc.errno, exc.strerror, str(path)))

    threads = [threading.Thread(target=flush, args=(path,), daemon=True) for path in paths[1:]]
    for thread in threads:
        thread.start()
    if paths:
        flush(paths[0])
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _fsync_file(path: Path) -> None:
    # Another descriptor of the same file: fsync flushes the file's data, whoever wrote it.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # file systems that cannot sync a folder
            raise
    finally:
        os.close(fd)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# -- Recovery: what killed runs left behind -------------------------------------------------


def finish_interrupted_write(out: str | Path, notify: Notify | None = None, *, locked: bool = False, names: Collection[str] = ()) -> None:
    """Clean up after killed runs on ``out``: complete a committed write, remove temporary files
    and lock files, and put back what the 0.1.0 writer's staging folders hold.

    ``notify`` receives one line per thing cleaned up. Takes OUT's lock unless ``locked``.
    ``names`` are generated names whose folders are searched for temporary files besides those
    of the manifest and journal.
    """
    say: Notify = notify or (lambda message: None)
    out = Path(out)
    if not locked:
        restore_missing_folder(out, say)
        if not out.is_dir():
            return
        with exclusive_lock(out, LOCK_WAIT_SECONDS, say):
            finish_interrupted_write(out, say, locked=True, names=names)
        return
    merge_old_staging(out, say)
    journal = _read_journal(out, say)
    if journal is not None:
        apply_journal(out, journal)
        say(f"{out}: completed the write of an interrupted ssm-profile run")
    try:
        manifest = read_manifest(out)
    except OutputError:
        manifest = None
    known = [*names, *(manifest.files if manifest else ())]
    removed = _remove_temporary_files_under(out, max((name.count("/") for name in known), default=0))
    if removed:
        say(f"{out}: removed {removed} temporary file(s) of an interrupted ssm-profile run")


def _remove_temporary_files_under(out: Path, depth: int) -> int:
    """Remove every temporary file (by its name) in ``out`` and its folders ``depth`` levels down,
    hidden folders aside; a folder that held nothing else is removed too. How many files went.

    Not only the folders of today's names: a run killed while writing an account root that the
    fleet file no longer lists left temporary files (and the folder made for them) where no
    generated name leads any more.
    """
    removed = 0
    pending = [(out, 0)]
    while pending:
        folder, level = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        mine = [entry for entry in entries if _is_temporary(entry.name) and entry.is_file(follow_symlinks=False)]
        for entry in mine:
            os.unlink(entry.path)
        removed += len(mine)
        if mine and len(mine) == len(entries) and folder != out:
            with suppress(OSError):
                os.rmdir(folder)
        if level < depth:
            pending += [(Path(e.path), level + 1) for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    return removed


def _read_journal(out: Path, say: Notify) -> Journal | None:
    path = out / JOURNAL_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return msgspec.json.decode(data, type=Journal)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        # Written atomically, so only a hand edit damages it: undo the write it described.
        path.unlink()
        say(f"{path}: damaged ({exc}); the interrupted write it described is dropped")
        return None


__all__ = [
    "JOURNAL_FILE",
    "LOCK_FILE",
    "LOCK_WAIT_SECONDS",
    "Journal",
    "exclusive_lock",
    "finish_interrupted_write",
    "flush_temporary_files",
    "remove_temporary_files",
    "restore_missing_folder",
    "signals_deferred",
    "write_journal",
    "write_temporary",
]
