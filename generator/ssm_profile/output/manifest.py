"""The manifest of a generated module (``.ssm-profile.json``): its one schema, reader and writer.

The manifest is the record of a complete generation: what generated the module (spec, format,
engine, generator version), where it runs (partition, Regions, provider aliases, required
inputs) and the SHA-256 of every file it wrote. The writer writes it last and trusts it to tell
generated files from the user's, so every read validates it against :class:`Manifest`; a
malformed one is an :class:`~ssm_profile.errors.OutputError` naming the file and the fault.

This module is a leaf: it imports nothing of the pipeline, so the pipeline, the writer, the
Terraform harness, releases and the CLI all share it without import cycles.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Annotated, Final, Literal

import msgspec

from ..errors import OutputError, SpecError
from ..intake import MANIFEST, read_bytes

MANIFEST_FILE = ".ssm-profile.json"
#: Written by `ssm-profile release`; named here so `generate` can look for it without importing
#: the release machinery (change assessment, interface, versioning: ~10 ms of start-up).
RELEASE_FILE = ".ssm-profile-release.json"
GENERATOR: Final = "ssm-profile"

_Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}\Z")]  # \Z: "$" passes a trailing newline
_Name = Annotated[str, msgspec.Meta(min_length=1)]
#: Control characters (C0 and DEL), each mapped to a space: a message stays on one line.
_CONTROL = {code: " " for code in [*range(0x20), 0x7F]}

try:  # CPython's own SHA-256: hashlib would first load OpenSSL (~2.5 ms of every generate)
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]  # Python 3.12+; private, so no stubs
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found]  # Python 3.11; private, so no stubs
    except ImportError:  # a build without it: OpenSSL's, the same digest
        from hashlib import sha256 as _sha256


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """What ``.ssm-profile.json`` records. Field order is the order on disk."""

    generator: Literal["ssm-profile"] = GENERATOR
    version: _Name
    spec: _Name
    format: Literal["hcl", "json"]
    # Manifests written before the CDK engine existed have no engine: they are native.
    engine: Literal["native", "cdk"] = "native"
    partition: _Name
    regions: Annotated[list[_Name], msgspec.Meta(min_length=1)]
    required_inputs: list[_Name] = []
    provider_aliases: dict[_Name, _Name] = {}
    files: dict[str, _Sha256]
    module_version: str | None = None  # stamped by `ssm-profile release`; absent otherwise
    # A fleet's LIVE folder (`ssm-profile fleet`): the fleet file, the shared module's folder
    # (both relative to LIVE) and the account roots' folders. Absent from a module's manifest.
    fleet: str | None = None
    module: str | None = None
    accounts: list[_Name] = []

    def __post_init__(self) -> None:
        for name in self.files:
            problem = unsafe_file_name(name)
            if problem:
                raise ValueError(f"files: {_printable(name)} {problem}")

    @property
    def kind(self) -> str:
        """What the folder is: ``module`` (``generate``, ``release``) or ``fleet`` (a fleet's LIVE
        folder, ``ssm-profile fleet``).

        Inferred from the content, not a field of its own: every manifest since 0.1.0 says it
        already (only LIVE's has ``fleet``), so manifests written by any version read the same
        and no generated file changes.
        """
        return "fleet" if self.fleet is not None else "module"

    def describe(self) -> str:
        """The folder's kind and source for a message: ``a module generated from spec.toml``."""
        if self.kind == "fleet":
            return f"a fleet's LIVE folder (fleet file {_printable(self.fleet or '')})"
        return f"a module generated from {_printable(self.spec)}"

    def to_json(self) -> str:
        """The manifest file's text: indented JSON, keys in field order, byte-stable."""
        data = msgspec.to_builtins(self)
        for optional in ("module_version", "fleet", "module"):
            if data[optional] is None:
                del data[optional]
        if not self.accounts:
            del data["accounts"]
        return json.dumps(data, indent=2) + "\n"


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex, as the manifest records each file."""
    digest: str = _sha256(data).hexdigest()
    return digest


def unsafe_file_name(name: str) -> str:
    """Why ``name`` cannot be a generated file's path inside a module folder; empty when it can.

    Generated names are relative POSIX paths below the module folder; anything else in a
    manifest (``../x``, ``/etc/x``, ``a//b``) would let the writer reach outside OUT.
    """
    if not name or name != name.translate(_CONTROL) or "\\" in name:
        return "is not a plain relative file name"
    path = PurePosixPath(name)
    if path.is_absolute() or name.endswith("/") or str(path) != name:
        return "is not a plain relative file name"
    if not path.parts or any(part in (".", "..") for part in name.split("/")):
        return "leaves the module folder"
    return ""


def _printable(text: str) -> str:
    """``text`` quoted with control characters escaped, so a message stays on one line."""
    return json.dumps(text, ensure_ascii=False)


def decode_manifest(data: bytes | str, path: str | Path = MANIFEST_FILE) -> Manifest:
    """Parse and validate a manifest's bytes; raises :class:`OutputError` naming ``path``."""
    try:
        return msgspec.json.decode(data, type=Manifest)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:  # ValidationError is a DecodeError
        reason = (str(exc) or type(exc).__name__).translate(_CONTROL)
        raise OutputError(
            f"{path}: not a valid ssm-profile manifest ({reason}); restore it from version control, "
            "or regenerate with --force (it overwrites only files with generated names and keeps the rest)"
        ) from None


def manifest_path(out: str | Path) -> Path:
    """Where the manifest of the module at ``out`` lives."""
    return Path(out) / MANIFEST_FILE


def read_manifest(out: str | Path) -> Manifest | None:
    """The validated manifest of the module at ``out``; None when ``out`` holds no manifest.

    Raises :class:`OutputError` (one line naming the file) when the manifest is unreadable
    or does not match the schema.
    """
    path = manifest_path(out)
    try:
        data = read_bytes(path, MANIFEST, missing_ok=True)
    except SpecError as error:  # the bounded reader's words: a folder, a FIFO, too large ...
        raise OutputError(str(error)) from None
    return None if data is None else decode_manifest(data, path)


def manifests_under(root: str | Path, unreadable: list[str] | None = None) -> list[Path]:
    """Module folders below ``root`` holding a manifest, skipping hidden folders and node_modules.

    ``unreadable`` receives one line (``folder: reason``) per folder that could not be listed:
    a module inside it could not be found, which a caller must say rather than skip.
    """
    found = []

    def failed(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append(f"{error.filename}: cannot be searched for modules ({error.strerror or error})")

    for folder, subfolders, files in os.walk(root, onerror=failed):
        # A manifest that is not a file is found too, so the reader can say what is wrong with it.
        if MANIFEST_FILE in files or MANIFEST_FILE in subfolders:
            found.append(Path(folder))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "node_modules")
    return found
