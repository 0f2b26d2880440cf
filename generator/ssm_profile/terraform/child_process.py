"""Stopping a child process (Terraform, pip) when ssm-profile itself is stopped.

Children run in a process group of their own (``process_group=0``), so a signal reaches the
child and everything it started (Terraform's provider plugins) and nothing else:

- Ctrl-C: SIGINT to the group, as a terminal's Ctrl-C would reach it, and up to
  :data:`INTERRUPT_GRACE_SECONDS` for Terraform to stop its providers; then SIGKILL;
- SIGTERM (a CI runner cancelling a job): SIGTERM to the group and up to
  :data:`TERMINATE_GRACE_SECONDS`, then SIGKILL, so ssm-profile ends within 2 s (issue 23);
- a second signal while waiting: SIGKILL at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress
from typing import Any

from ..errors import Terminated

#: How long an interrupted Terraform gets to stop its providers before it is killed.
INTERRUPT_GRACE_SECONDS = 15
#: How long a terminated child gets before it is killed: SIGTERM must end ssm-profile in 2 s.
TERMINATE_GRACE_SECONDS = 1.0


def stop_child(process: subprocess.Popen[Any], stop: BaseException) -> None:
    """Stop ``process`` (started with ``process_group=0``) because ``stop`` was raised while it ran."""
    if process.poll() is not None:
        return
    terminated = isinstance(stop, Terminated)
    signal_group(process, signal.SIGTERM if terminated else signal.SIGINT)
    try:
        process.communicate(timeout=TERMINATE_GRACE_SECONDS if terminated else INTERRUPT_GRACE_SECONDS)
    except BaseException:  # the grace ran out, or a second signal: stop it now
        signal_group(process, signal.SIGKILL)
        process.wait()


def signal_group(process: subprocess.Popen[Any], signum: int) -> None:
    """Send ``signum`` to the process group ``process`` leads (``process_group=0``)."""
    with suppress(ProcessLookupError, PermissionError):  # gone already
        os.killpg(process.pid, signum)
