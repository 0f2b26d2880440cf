"""Paths as generated files write them: relative, POSIX, stable whatever the working folder is.

A module's header names its spec relative to the module folder; its README's usage snippet
names the module relative to the spec's folder (where the root module calling it usually
sits). ``generate``, ``release``, ``drift`` and ``fleet`` must compute both the same way, or a
module one of them wrote would look stale to another.
"""

from __future__ import annotations

import os
from pathlib import Path


def spec_label(spec: Path, out: Path) -> str:
    """The spec's path relative to the module folder ``out`` (each file's header names it)."""
    try:
        return Path(os.path.relpath(spec.resolve(), out.resolve())).as_posix()
    except (ValueError, OSError, RuntimeError):  # another drive on Windows; a symlink loop (load_spec says so)
        return spec.name


def module_source(spec: Path, out: Path) -> str:
    """``out`` as a root module beside ``spec`` calls it: ``./modules/x`` (the README's usage snippet)."""
    try:
        relative = Path(os.path.relpath(out.resolve(), spec.resolve().parent)).as_posix()
    except (ValueError, OSError, RuntimeError):  # another drive on Windows; a symlink loop (load_spec says so)
        return ""
    return relative if relative.startswith("../") else "./" + relative
