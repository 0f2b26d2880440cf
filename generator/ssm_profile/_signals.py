"""The handler of Ctrl-C and SIGTERM while there is nothing to clean up: end at once, one line.

Imports nothing but two built-in modules (``signal`` itself imports ``enum``, ~10 ms): the
``ssm-profile`` command installs it before anything else it imports (issue 23).
"""

import _signal  # type: ignore[import-not-found]  # the C module behind `signal`, which has no stub of its own
import os


def exit_on_signal(signum: int, frame: object) -> None:
    """End the process at once with 130 (SIGINT) or 143 (SIGTERM) and one line, no traceback."""
    os.write(2, b"ssm-profile: interrupted\n" if signum == _signal.SIGINT else b"ssm-profile: terminated\n")
    os._exit(130 if signum == _signal.SIGINT else 143)


def exit_on_signals() -> None:
    """Make SIGINT and SIGTERM end the process at once (:func:`exit_on_signal`); main thread only."""
    _signal.signal(_signal.SIGINT, exit_on_signal)
    _signal.signal(_signal.SIGTERM, exit_on_signal)
