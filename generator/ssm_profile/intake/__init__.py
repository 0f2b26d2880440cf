"""The one border every file a user hands ssm-profile crosses: read bounded, decoded, nested a little.

Every file the tool reads (a spec, a fleet file, a module's manifest and release record, a
``--var-file``, a judges suppressions file) is read through :func:`read_text`, with the limits
its :class:`FileKind` sets: regular files only (a FIFO never hangs a run, a link to a device is
never read), at most ``max_bytes``, UTF-8. Parsers then bound nesting with :func:`check_depth`
(or :func:`load_json`), so no file reaches a parser's recursion limit. Failures are one
:class:`~ssm_profile.errors.SpecError` naming the file (exit 2). docs/trust.md states the limits.
"""

from __future__ import annotations

from .reader import (
    FLEET_FILE,
    KINDS,
    MANIFEST,
    MODULE_FILE,
    RELEASE_RECORD,
    SPEC_FILE,
    SUPPRESSIONS_FILE,
    TERRAFORM_CLI_CONFIG,
    VAR_FILE,
    FileKind,
    bracket_depth,
    check_depth,
    json_depth,
    load_json,
    read_bytes,
    read_text,
)

__all__ = [
    "FLEET_FILE",
    "KINDS",
    "MANIFEST",
    "MODULE_FILE",
    "RELEASE_RECORD",
    "SPEC_FILE",
    "SUPPRESSIONS_FILE",
    "TERRAFORM_CLI_CONFIG",
    "VAR_FILE",
    "FileKind",
    "bracket_depth",
    "check_depth",
    "json_depth",
    "load_json",
    "read_bytes",
    "read_text",
]
