"""The bounded reader: one function that reads every file ssm-profile is handed, and the limits of each kind.

Reading opens the file without blocking (``O_NONBLOCK``: opening a FIFO returns at once
instead of waiting for a writer), checks what was opened (``fstat``: a regular file, never a
folder, FIFO, socket or device, whatever link led there) and reads at most one byte past the
kind's size limit, so ``/dev/zero`` or a file growing under the run cannot exhaust memory.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from ..errors import SpecError

MIB = 1024 * 1024


class FileKind(msgspec.Struct, frozen=True):  # a Struct: no dataclasses at start-up (issue 16)
    """A kind of file ssm-profile reads, and its limits.

    ``name`` is how messages call it; ``hint`` what to do when the path holds something else;
    ``max_bytes`` and ``max_depth`` bound the file's size and nesting (a map or list inside
    another counts one level); ``max_values`` bounds what YAML aliases may expand to.
    """

    name: str
    hint: str
    max_bytes: int
    max_depth: int
    max_values: int = 100_000

    @property
    def too_deep(self) -> str:
        """The message for nesting beyond :attr:`max_depth`."""
        return f"nested more than {self.max_depth} levels deep; a {self.name} nests at most a few"


#: A spec nests four levels (``s3.buckets[0].name``); the rest is room for new fields. A spec of
#: thousands of buckets is well under a megabyte.
SPEC_FILE = FileKind("spec file", "give the spec file", 4 * MIB, 16)
#: A fleet of 5,000 accounts, each with a network for four Regions (two subnets each), is 5.2 MiB
#: of TOML, 5.7 MiB of YAML and 8.4 MiB of indented JSON, about 42 YAML values an account
#: (measured with tests/test_hostile_inputs.py's fleet_data; `fleet` writes its 5,000 roots in
#: under a minute): the limits leave about four times that. A spec's 4 MiB refused such fleets.
FLEET_FILE = FileKind("fleet file", "give the fleet file", 32 * MIB, 16, max_values=1_000_000)
#: A manifest lists every generated file with its SHA-256: a 5,000-account LIVE folder's is 2.0 MiB.
MANIFEST = FileKind("manifest", "the manifest is a file ssm-profile writes; restore it from version control", 64 * MIB, 8)
#: A release record holds an inventory, interface and changelog: tens of kilobytes.
RELEASE_RECORD = FileKind(
    "release record", "the release record is a file ssm-profile writes; restore it from version control", 16 * MIB, 8
)
#: Terraform variable values for one module: a network per Region, tags. Type constraints of
#: Terraform nest deeper than specs (objects of lists of objects ...): 32 levels.
VAR_FILE = FileKind("variable file", "give a variable file (HCL .tfvars or .json)", 4 * MIB, 32)
SUPPRESSIONS_FILE = FileKind("suppressions file", "give the suppressions file (TOML)", 1 * MIB, 8)
#: A generated module's own file, read back (its variable names): the largest generated file is
#: a README of a few hundred kilobytes.
MODULE_FILE = FileKind("module file", "regenerate the module", 64 * MIB, 64)
#: ``aws iam get-account-authorization-details`` of a large account (every role, group, user and
#: policy with all its versions) runs to tens of megabytes; its policy documents nest a few levels.
ACCOUNT_DETAILS = FileKind(
    "authorization details file", "give the JSON of aws iam get-account-authorization-details", 64 * MIB, 32
)
#: ``imports --vpc-endpoint-ids``: a Region -> service -> endpoint ID table.
ENDPOINT_IDS = FileKind("VPC endpoint ID file", "give a JSON file of VPC endpoint IDs", 1 * MIB, 8)
#: The repository's ``atlantis.yaml``, the team's file that `fleet` keeps a marked block in.
ATLANTIS_CONFIG = FileKind("Atlantis repo config", "atlantis.yaml at the repository root must be a plain file", 4 * MIB, 32)
#: The user's Terraform CLI configuration, read only to key the provider lock file it implies.
TERRAFORM_CLI_CONFIG = FileKind("Terraform CLI configuration", "give Terraform's CLI configuration file", 1 * MIB, 64)
KINDS = (
    SPEC_FILE, FLEET_FILE, MANIFEST, RELEASE_RECORD, VAR_FILE, SUPPRESSIONS_FILE, MODULE_FILE, ACCOUNT_DETAILS, ENDPOINT_IDS,
    ATLANTIS_CONFIG, TERRAFORM_CLI_CONFIG,
)

#: "The file is not there": the reader's ``missing_ok`` answers None for these.
_MISSING = (errno.ENOENT, errno.ENOTDIR)


def read_bytes(path: str | Path, kind: FileKind, *, missing_ok: bool = False, source: str | None = None) -> bytes | None:
    """The bytes of the file at ``path``, within ``kind``'s limits.

    ``source`` names the file in messages (default: ``path``). With ``missing_ok`` a file that
    is not there is None; any other failure is a :class:`SpecError` naming the file.
    """
    source = str(path) if source is None else source
    try:
        # O_NONBLOCK: opening a FIFO (or a device) must not hang the run before the type check.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno in _MISSING:
            if missing_ok:
                return None
            raise SpecError(source, "no such file") from None
        raise SpecError(source, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise SpecError(source, f"is a folder; {kind.hint}")
        if not stat.S_ISREG(mode):
            raise SpecError(source, f"is not a regular file; {kind.hint}")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(kind.max_bytes + 1)
    except OSError as exc:
        raise SpecError(source, f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > kind.max_bytes:
        raise SpecError(source, f"is larger than {_size(kind.max_bytes)}, the limit for a {kind.name}")
    return data


def read_text(path: str | Path, kind: FileKind, *, missing_ok: bool = False, source: str | None = None) -> str | None:
    """The text of the file at ``path`` (UTF-8; a leading byte-order mark dropped), within ``kind``'s limits."""
    data = read_bytes(path, kind, missing_ok=missing_ok, source=source)
    if data is None:
        return None
    return decode_utf8(data, str(path) if source is None else source)


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` as text; a :class:`SpecError` naming the first byte that is not UTF-8 and its line."""
    try:
        return data.decode("utf-8-sig")  # -sig: a leading byte-order mark is dropped
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(source, f"is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line}; save the file as UTF-8") from None


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit} bytes"


#: A JSON string (an unterminated one runs to the end).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)  # the unrolled loop: fast on long strings


def json_depth(text: str | bytes) -> int:
    """How deep JSON text nests (``[]`` is 1), counting brackets outside strings; the text need not be valid.

    Linear and without recursion: what a file is checked with before a recursive parser sees it.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return bracket_depth(_JSON_STRING.sub(b"", data))


def bracket_depth(text: str | bytes, opening: bytes = b"[{", closing: bytes = b"]}") -> int:
    """How deep the brackets of ``text`` nest, once what is not code (strings, comments) is taken out."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    brackets = data.translate(None, bytes(b for b in range(256) if b not in opening + closing))
    depth = deepest = 0
    for byte in brackets:
        if byte in opening:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def load_json(text: str, kind: FileKind, source: str) -> Any:
    """Parse JSON text of ``kind``: nesting bounded before parsing, ``NaN`` and friends refused,
    failures one :class:`SpecError` naming ``source``."""
    if json_depth(text) > kind.max_depth:
        raise SpecError(source, kind.too_deep)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # unreachable after the depth check; kept as the last line of defence
        raise SpecError(source, kind.too_deep) from None
    except ValueError as exc:
        raise SpecError(source, f"not valid JSON: {' '.join(str(exc).split())}") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def check_depth(data: Any, kind: FileKind, source: str) -> None:
    """A :class:`SpecError` when parsed ``data`` nests deeper than ``kind`` allows (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= kind.max_depth:
                raise SpecError(source, kind.too_deep)
            items: Iterable[Any] = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
