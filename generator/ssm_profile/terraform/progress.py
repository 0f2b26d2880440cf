"""Progress of long Terraform steps on stderr: the step and its elapsed time.

On a terminal one live line counts the seconds while the step runs and is replaced by the
step's result; anywhere else (CI logs, pipes) each step prints one line when it ends, so a log
shows no carriage returns.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

_TICK_SECONDS = 0.5


class StepProgress:
    """Reports Terraform steps on ``stream`` (stderr by default), prefixed with ``prefix``."""

    def __init__(self, stream: IO[str] | None = None, prefix: str = "ssm-profile: ", live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.prefix = prefix
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty()) if live is None else live
        self._lock = threading.Lock()

    def note(self, message: str) -> None:
        """One line of its own (a fallback, a source)."""
        with self._lock:
            self.stream.write(f"{self.prefix}{message}\n")
            self.stream.flush()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the step ``name``; show it live on a terminal, report it once it ends."""
        start = time.monotonic()
        done = threading.Event()
        ticker = None
        if self.live:
            ticker = threading.Thread(target=self._tick, args=(name, start, done), daemon=True)
            ticker.start()
        outcome = "failed"
        try:
            yield
            outcome = "done"
        finally:
            done.set()
            if ticker is not None:
                ticker.join()
            with self._lock:
                clear = "\r\033[K" if self.live else ""
                self.stream.write(f"{clear}{self.prefix}{name}: {outcome} in {time.monotonic() - start:.1f} s\n")
                self.stream.flush()

    def _tick(self, name: str, start: float, done: threading.Event) -> None:
        while not done.wait(_TICK_SECONDS):
            with self._lock:
                self.stream.write(f"\r\033[K{self.prefix}{name} ... {time.monotonic() - start:.0f} s")
                self.stream.flush()


class SilentProgress(StepProgress):
    """Reports nothing: the default for library calls."""

    def __init__(self) -> None:
        super().__init__(stream=None, live=False)

    def note(self, message: str) -> None:
        return None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        yield
