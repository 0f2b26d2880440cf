"""What the pipeline returns and the writer writes: a generated module's files and their models."""

from __future__ import annotations

from typing import Any

import msgspec

from ..grants.build import Grants
from ..tfmodule.document import Document
from .manifest import MANIFEST_FILE, Manifest, decode_manifest


class Origin(msgspec.Struct, frozen=True):
    """The spec file a module was generated from (as given), the folder it was generated for
    (None: not known), and the release record given to ``generate`` (None: read from that folder)."""

    spec_file: str
    module_dir: str | None = None
    release: Any = None


class GeneratedModule(msgspec.Struct, frozen=True):  # not a dataclass: nothing compiled at import
    """A generated module: its files (name to text) and the models they were rendered from."""

    files: dict[str, str]
    grants: Grants
    document: Document
    format: str
    engine: str = "native"
    #: How it was generated, when its headers and manifest name its spec file relative to the
    #: module's folder: ``ssm_profile.write_module`` regenerates it for the folder it is written to.
    origin: Origin | None = None

    @property
    def manifest(self) -> Manifest:
        """The manifest written beside the files: what generated them, and their hashes."""
        return decode_manifest(self.files[MANIFEST_FILE])
