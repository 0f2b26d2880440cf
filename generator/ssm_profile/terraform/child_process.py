"""Stopping child processes (Terraform, pip, the judges) when ssm-profile itself is stopped.

Children run in a process group of their own (``process_group=0``), so a signal reaches the
child and everything it started (Terraform's provider plugins) and nothing else. Ctrl-C and
SIGTERM are raised in the main thread only, so every running child is tracked
(:func:`tracked`): the main thread stops them all, also those a worker thread waits for
(``validate`` beside ``plan``, the judges of ``check``), or its pool would wait for them.

- Ctrl-C: SIGINT to each group, as a terminal's Ctrl-C would reach it, and up to
  :data:`INTERRUPT_GRACE_SECONDS` for Terraform to stop its providers; then SIGKILL;
- SIGTERM (a CI runner cancelling a job): SIGTERM to each group and up to
  :data:`TERMINATE_GRACE_SECONDS`, then SIGKILL, so ssm-profile ends within 2 s (issue 23);
- a second signal while waiting: SIGKILL at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from ..errors import Terminated

#: How long an interrupted Terraform gets to stop its providers before it is killed.
INTERRUPT_GRACE_SECONDS = 15
#: How long a terminated child gets before it is killed: SIGTERM must end ssm-profile in 2 s.
TERMINATE_GRACE_SECONDS = 1.0

_running: set[subprocess.Popen[Any]] = set()
_running_lock = threading.Lock()


def track(process: subprocess.Popen[Any]) -> None:
    """Track ``process`` (started with ``process_group=0``) until :func:`untrack`, so a signal stops it."""
    with _running_lock:
        _running.add(process)


def untrack(process: subprocess.Popen[Any]) -> None:
    """Stop tracking ``process`` (it has ended)."""
    with _running_lock:
        _running.discard(process)


@contextmanager
def tracked(process: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """Track ``process`` (started with ``process_group=0``) while the block runs, so a signal stops it."""
    track(process)
    try:
        yield process
    finally:
        untrack(process)


def stop_children(stop: BaseException) -> None:
    """Stop every tracked child because ``stop`` (Ctrl-C, SIGTERM) was raised."""
    stop_child(None, stop)


def stop_child(process: subprocess.Popen[Any] | None, stop: BaseException) -> None:
    """Stop ``process`` (whose pipes this thread reads), and every other tracked child, because
    ``stop`` was raised while it ran."""
    with _running_lock:
        others = [child for child in _running if child is not process]
    children = [child for child in (process, *others) if child is not None and child.poll() is None]
    if not children:
        return
    terminated = isinstance(stop, Terminated) or not isinstance(stop, KeyboardInterrupt)
    for child in children:
        signal_group(child, signal.SIGTERM if terminated else signal.SIGINT)
    deadline = time.monotonic() + (TERMINATE_GRACE_SECONDS if terminated else INTERRUPT_GRACE_SECONDS)
    try:
        for child in children:
            remaining = max(deadline - time.monotonic(), 0.01)
            # This thread reads its own child's pipes; a worker thread reads the others'.
            child.communicate(timeout=remaining) if child is process else child.wait(timeout=remaining)
    except BaseException:  # the grace ran out, or a second signal: stop them now
        for child in children:
            signal_group(child, signal.SIGKILL)
        for child in children:
            child.wait()


def signal_group(process: subprocess.Popen[Any], signum: int) -> None:
    """Send ``signum`` to the process group ``process`` leads (``process_group=0``)."""
    with suppress(ProcessLookupError, PermissionError):  # gone already
        os.killpg(process.pid, signum)


def run_child(argv: list[str], *, timeout: float | None = None, **options: Any) -> subprocess.CompletedProcess[str]:
    """:func:`subprocess.run` with text output captured (undecodable bytes replaced), the child
    in a process group of its own and tracked, so Ctrl-C or SIGTERM stops it at once."""
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace", process_group=0, **options
    ) as process, tracked(process):
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.communicate()
            raise
        except BaseException as stop:
            stop_child(process, stop)
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
