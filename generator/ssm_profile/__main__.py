"""``python -m ssm_profile`` and the ``ssm-profile`` console script.

Signal handlers come first, before click and the CLI are imported (about 100 ms): Ctrl-C or
SIGTERM while Python loads them ends the run with 130 or 143 and one line, never a traceback
(issue 23). :func:`ssm_profile.cli.exits.run_console` takes over once the CLI has loaded.
"""

from __future__ import annotations

from ._signals import exit_on_signals

exit_on_signals()


def main() -> None:
    """Console entry point."""
    from .cli.main import main as run_cli

    run_cli()


if __name__ == "__main__":
    main()
