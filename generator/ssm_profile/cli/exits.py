"""How an ``ssm-profile`` command ends: one line on stderr and an exit code, never a traceback.

0 ok, 1 a check failed, 2 bad input or usage (an OSError reading or writing a file included),
3 Terraform failed, 130 Ctrl-C, 143 SIGTERM. SIGTERM is raised as :class:`Terminated` so the
writer can clean up before the process ends.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from .._signals import exit_on_signal, exit_on_signals
from ..errors import Terminated, one_line

__all__ = ["ErrorGroup", "Terminated", "os_error_text", "run_console"]


def os_error_text(error: OSError) -> str:
    """An OS error as ``path: reason`` (``path -> other: reason`` for a rename)."""
    paths = [os.fsdecode(p) for p in (error.filename, error.filename2) if p is not None]
    reason = error.strerror or str(error) or type(error).__name__
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def _raise_terminated(signum: int, frame: object) -> NoReturn:
    raise Terminated()


class ErrorGroup(click.Group):
    """Turns every failure into one line on stderr and an exit code; never a traceback.

    SsmProfileError: its exit code (a CheckFailed may add one line per finding). OSError
    (reading or writing a file): 2, naming the path and the reason. Ctrl-C: 130; SIGTERM: 143.
    """

    def invoke(self, ctx: click.Context) -> object:
        from ..errors import CheckFailed, SsmProfileError

        try:
            return super().invoke(ctx)
        except SsmProfileError as error:
            # A failed check may list its findings on the lines after its one-line summary.
            text = "\n".join(map(one_line, str(error).split("\n"))) if isinstance(error, CheckFailed) else one_line(str(error))
            click.echo(f"ssm-profile: error: {text}", err=True)
            ctx.exit(error.exit_code)
        except OSError as error:
            click.echo(f"ssm-profile: error: {one_line(os_error_text(error))}", err=True)
            ctx.exit(2)
        except (KeyboardInterrupt, Terminated) as stop:
            ctx.exit(_stopped(stop))


#: Whether :func:`run_console` runs this process (not a test's CliRunner): only then are the
#: process's signal handlers the CLI's to change.
_console = False


def run_console(command: Callable[[], object]) -> None:
    """Run ``command`` as the console entry point: Ctrl-C raises KeyboardInterrupt and SIGTERM
    :class:`Terminated`, so the writer and child processes clean up; an interruption outside a
    command (click's own parsing) still ends in one line.

    Before this (while Python loads the CLI) and after it, there is nothing to clean up: a
    signal ends the process at once (:func:`~ssm_profile._signals.exit_on_signal`).
    """
    global _console
    _console = True
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
    sys.unraisablehook = _stop_where_dropped
    # What the imports so far made (click, the CLI) lives as long as the process: the cyclic
    # collector need not walk it again in every full collection and at exit (start-up, issue 16).
    gc.freeze()
    try:
        command()
    except (KeyboardInterrupt, Terminated) as stop:
        sys.exit(_stopped(stop))
    finally:
        exit_on_signals()


def run_click(command: click.Command, prog_name: str, args: list[str] | None = None) -> int:
    """``command`` as click's standalone mode runs it, with one difference: a Ctrl-C while click
    itself parses the arguments (outside :meth:`invoke`) is Ctrl-C, not click's "Aborted!" and
    exit 1. Click turns KeyboardInterrupt into Abort there; the interruption is raised again for
    :func:`run_console` (130, one line). ``args``: the command line (default: ``sys.argv``).
    Returns the exit code."""
    try:
        result = command.main(args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort as abort:
        if isinstance(abort.__cause__, KeyboardInterrupt):
            raise abort.__cause__ from None
        click.echo("Aborted!", err=True)
        return 1
    except click.ClickException as error:
        error.show()
        return error.exit_code
    # Without standalone mode click returns ctx.exit's code, or the command's own return value.
    return result if isinstance(result, int) else 0


def _stop_where_dropped(unraisable: sys.UnraisableHookArgs) -> None:
    """Ctrl-C or SIGTERM raised where Python drops the exception (a weakref callback, a
    ``__del__`` during garbage collection) still stops the run: its children are stopped and
    the process ends at once with 130 or 143. What a write left is cleaned up by the next run,
    as after a kill (the rename of a commit holds signals back, so it is never half done)."""
    stop = unraisable.exc_value
    if not isinstance(stop, (KeyboardInterrupt, Terminated)):
        sys.__unraisablehook__(unraisable)
        return
    from ..terraform.child_process import stop_children

    stop_children(stop)
    exit_on_signal(signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT, None)


def _stopped(stop: BaseException) -> int:
    """Say that Ctrl-C or SIGTERM stopped the run; the exit code for it (130 or 143)."""
    if _console:  # a second signal while this one is reported ends the process at once
        exit_on_signals()
    if isinstance(stop, Terminated):
        click.echo("ssm-profile: terminated", err=True)
        return 143
    click.echo("ssm-profile: interrupted", err=True)
    return 130
