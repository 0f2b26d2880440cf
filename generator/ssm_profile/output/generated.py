"""What the pipeline returns and the writer writes: a generated module's files and their models."""

from __future__ import annotations

import msgspec

from ..grants.build import Grants
from ..tfmodule.document import Document
from .manifest import MANIFEST_FILE, Manifest, decode_manifest


class GeneratedModule(msgspec.Struct, frozen=True):  # not a dataclass: nothing compiled at import
    """A generated module: its files (name to text) and the models they were rendered from."""

    files: dict[str, str]
    grants: Grants
    document: Document
    format: str
    engine: str = "native"

    @property
    def manifest(self) -> Manifest:
        """The manifest written beside the files: what generated them, and their hashes."""
        return decode_manifest(self.files[MANIFEST_FILE])
