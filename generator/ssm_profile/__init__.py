"""ssm-profile: Terraform modules for AWS's instance profile for Systems Manager.

The public API is one pipeline, each stage a module::

    spec file --spec--> Spec --grants--> Grants --module--> Document --render--> files --writer--> OUT

``generate`` runs the pure stages and returns the files; ``write_module`` puts them on disk.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .errors import CheckFailed, GenerationError, OutputError, SpecError, SsmProfileError, TerraformError

# The pipeline is imported on first use (PEP 562), so `ssm-profile --help` and commands that
# never generate do not pay for it.
_LAZY = {
    "FORMATS": "pipeline",
    "GeneratedModule": "pipeline",
    "generate": "pipeline",
    "load_spec": "pipeline",
    "check_module": "writer",
    "write_module": "writer",
}

if TYPE_CHECKING:
    from .pipeline import FORMATS, GeneratedModule, generate, load_spec
    from .writer import check_module, write_module


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "__version__",
    "FORMATS",
    "CheckFailed",
    "GeneratedModule",
    "GenerationError",
    "OutputError",
    "SpecError",
    "SsmProfileError",
    "TerraformError",
    "check_module",
    "generate",
    "load_spec",
    "write_module",
]
