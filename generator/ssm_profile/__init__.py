"""ssm-profile: Terraform modules for AWS's instance profile for Systems Manager.

The public API is one pipeline, each stage a module::

    spec file --spec--> Spec --grants--> Grants --module--> Document --render--> files --writer--> OUT

``generate`` runs the pure stages and returns the files; ``write_module`` puts them on disk.
Every command of the ``ssm-profile`` CLI is one call here: ``generate`` + ``write_module`` (or
``check_module``), ``release_module``, ``find_stale`` (drift), ``generate_fleet`` +
``write_fleet`` (or ``require_fleet_current``), ``spec_policies``, ``region_coverage``,
``json_schema``, ``install_judges`` and ``find_judges``.
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
    "spec_policies": "pipeline",
    "check_module": "writer",
    "write_module": "writer",
    "release_module": "release",
    "find_stale": "drift",
    "generate_fleet": "fleet_io",
    "require_fleet_current": "fleet_io",
    "write_fleet": "fleet_io",
    "region_coverage": "catalog",
    "json_schema": "spec",
    "find_judges": "judges",
    "install_judges": "judges.env",
}

if TYPE_CHECKING:
    from .catalog import region_coverage
    from .drift import find_stale
    from .fleet_io import generate_fleet, require_fleet_current, write_fleet
    from .judges import find_judges
    from .judges.env import install_judges
    from .pipeline import FORMATS, GeneratedModule, generate, load_spec, spec_policies
    from .release import release_module
    from .spec import json_schema
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
    "find_judges",
    "find_stale",
    "generate",
    "generate_fleet",
    "install_judges",
    "json_schema",
    "load_spec",
    "region_coverage",
    "release_module",
    "require_fleet_current",
    "spec_policies",
    "write_fleet",
    "write_module",
]
