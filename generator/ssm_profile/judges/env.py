"""The judges' own virtual environment, managed by ``ssm-profile judges install``.

checkov pins a botocore older than the one ssm-profile reads its Region data from, so the
judges cannot share the tool's environment. As pre-commit does for hook environments, the
environment is keyed by what it is built from (the pinned requirements shipped in the package),
so installing twice does nothing, a new pin gets a new environment, and an environment whose
base interpreter has gone is rebuilt. A build happens in a folder of its own (``<key>.build-<random>``); only a complete
build is published, by atomically replacing the symbolic link ``<key>`` with one to it. A
venv cannot be renamed once built (its scripts name their interpreter by absolute path), so
the link, not the folder, is what moves. Leftover builds of a killed run are removed by the
next install, under a lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..errors import JudgeError, OutputError
from ..terraform.child_process import stop_child, tracked

REQUIREMENTS_RESOURCE = "judges-requirements.txt"
SUPPRESSIONS_RESOURCE = "judges-suppressions.toml"
STATE_FILE = ".ssm-profile-judges.json"
TOOLS = ("checkov", "parliament", "policy_sentry")

Progress = Callable[[str], None]


def requirements_text() -> str:
    """The judges' pinned requirements, shipped inside the package."""
    return resources.files("ssm_profile").joinpath("data", REQUIREMENTS_RESOURCE).read_text(encoding="utf-8")


def shipped_suppressions_text() -> str:
    """The suppressions ssm-profile itself justifies, shipped inside the package."""
    return resources.files("ssm_profile").joinpath("data", SUPPRESSIONS_RESOURCE).read_text(encoding="utf-8")


def judges_root() -> Path:
    """The folder that holds the managed judges' environments: ``<cache>/judges``."""
    from ..terraform.locate import cache_dir

    return cache_dir() / "judges"


def environment_key() -> str:
    """The name of the environment for the shipped requirements (their hash)."""
    return "venv-" + hashlib.sha256(requirements_text().encode()).hexdigest()[:16]


def managed_venv() -> Path:
    """Where ``ssm-profile judges install`` puts the judges for the shipped requirements."""
    return judges_root() / environment_key()


def is_installed(venv: Path) -> bool:
    """Whether ``venv`` is a complete, usable judges' environment: its state file (written last),
    the tools, and its interpreter (gone when the Python it was built from was removed)."""
    bin_dir = venv / "bin"
    return (venv / STATE_FILE).is_file() and (bin_dir / "python").exists() and all((bin_dir / tool).is_file() for tool in TOOLS)


def install_judges(progress: Progress, python: str | None = None) -> tuple[Path, bool]:
    """Create the managed judges' environment if it does not exist yet.

    Returns the environment's path and whether this call built it. ``progress`` receives one
    line per step and pip's own lines while it installs.
    """
    import fcntl

    python = python or sys.executable
    target = managed_venv()
    if is_installed(target):
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        if _locked(lock):
            progress(f"waiting for another install holding {target.parent / '.lock'}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(target):  # built by the run that held the lock
            return target, False
        _remove_leftover_builds(target, progress)
        _refuse_foreign_target(target)
        previous = target.resolve() if target.is_symlink() else None  # an environment no longer usable
        build = Path(tempfile.mkdtemp(prefix=f"{target.name}.build-", dir=target.parent))
        try:
            _build(build, python, progress)
            _publish(build, target)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        if previous is not None and previous.name.startswith(f"{target.name}.build-"):
            shutil.rmtree(previous, ignore_errors=True)
    return target, True


def _locked(lock: object) -> bool:
    import fcntl

    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[arg-type]
    except BlockingIOError:
        return True
    fcntl.flock(lock, fcntl.LOCK_UN)  # type: ignore[arg-type]
    return False


def _build(build: Path, python: str, progress: Progress) -> None:
    progress(f"creating a virtual environment in {build} with {python}")
    _run([python, "-m", "venv", str(build)], "python -m venv", progress, echo=False)
    requirements = build / "requirements.txt"
    requirements.write_text(requirements_text(), encoding="utf-8")
    pins = [line.strip() for line in requirements_text().splitlines() if line.strip() and not line.startswith("#")]
    progress(f"installing {', '.join(pins)} (pip; reuses pip's cache)")
    _run(
        [str(build / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", "-r", str(requirements)],
        "pip install",
        progress,
        echo=True,
    )
    missing = [tool for tool in TOOLS if not (build / "bin" / tool).is_file()]
    if missing:
        raise JudgeError(f"judges install: pip finished but {', '.join(missing)} is missing from {build / 'bin'}")
    state = {"requirements": requirements_text(), "python": python, "key": build.name.split(".build-")[0]}
    (build / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _refuse_foreign_target(target: Path) -> None:
    """:class:`OutputError` when ``target`` is anything but the link an install publishes: a
    folder (or file) there is not ssm-profile's to replace, and replacing a link over it fails,
    so each run would build again for nothing."""
    if os.path.lexists(target) and not target.is_symlink():
        raise OutputError(
            f"{target}: a {'folder' if target.is_dir() else 'file'} ssm-profile did not create (judges install publishes a "
            "symbolic link there); move it away and install again, or name your own venv with $SSM_PROFILE_JUDGES_VENV"
        )


def _publish(build: Path, target: Path) -> None:
    link = target.parent / f".{target.name}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(build.name)
    try:
        os.replace(link, target)
    except BaseException:
        link.unlink(missing_ok=True)
        raise


def _remove_leftover_builds(target: Path, progress: Progress) -> None:
    current = target.resolve() if target.is_symlink() else None
    for leftover in target.parent.glob(f"{target.name}.build-*"):
        if leftover.resolve() != current:
            progress(f"removing {leftover}, left by an install that did not finish")
            shutil.rmtree(leftover, ignore_errors=True)
    # The links _publish makes, named by it, of a run killed before it renamed one.
    for link in target.parent.glob(f".{target.name}.link-*"):
        if link.is_symlink() and link.name.removeprefix(f".{target.name}.link-").isdecimal():
            link.unlink(missing_ok=True)


def _run(argv: list[str], what: str, progress: Progress, echo: bool) -> None:
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", stdin=subprocess.DEVNULL,
            process_group=0,  # Ctrl-C and SIGTERM reach pip through stop_child, and stop it at once
        )
    except OSError as error:
        raise JudgeError(f"judges install: {what} could not start: {error}") from None
    tail: list[str] = []
    with process, tracked(process):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                line = line.rstrip()
                if not line:
                    continue
                tail = ([*tail, line])[-5:]
                if echo:
                    progress(f"  {line}")
        except BaseException as stop:
            stop_child(process, stop)
            raise
    if process.returncode != 0:
        raise JudgeError(f"judges install: {what} failed (exit {process.returncode}): {' | '.join(tail) or 'no output'}")
