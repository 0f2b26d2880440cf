"""ssm-profile: Terraform modules for AWS's instance profile for Systems Manager.

The public API is one pipeline, each stage a module::

    spec file --spec--> Spec --grants--> Grants --module--> Document --render--> files --writer--> OUT

``generate`` runs the pure stages and returns the files; ``write_module`` puts them on disk.
Every command of the ``ssm-profile`` CLI is one call here: ``generate`` + ``write_module`` (or
``require_module_current``), ``release_module``, ``find_stale`` (drift), ``generate_fleet`` +
``write_fleet`` (or ``require_fleet_current``), ``spec_policies``, ``region_coverage``,
``json_schema``, ``install_judges`` and ``find_judges``; ``validate_modules``,
``plan_modules``, ``run_all_module_tests`` and ``check_modules`` run Terraform on many
modules in one root.
"""

import sys as _sys

if _sys.argv and _sys.argv[0].rpartition("/")[2] in ("ssm-profile", "-m"):
    # Run as the ssm-profile command (its script, or `python -m ssm_profile` while runpy imports
    # this package): Ctrl-C or SIGTERM before the CLI has loaded ends the run with 130 or 143
    # and one line, not a traceback from the middle of an import (issue 23). First of all, so
    # no `from __future__` here; a library user's process keeps its own handlers.
    from ._signals import exit_on_signals

    exit_on_signals()

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import CheckFailed, GenerationError, OutputError, SpecError, SsmProfileError, TerraformError

# The pipeline is imported on first use (PEP 562), so `ssm-profile --help` and commands that
# never generate do not pay for it.
_LAZY = {
    "FORMATS": "pipeline",
    "GeneratedModule": "pipeline",
    "generate": "pipeline",
    "load_spec": "pipeline",
    "spec_policies": "pipeline",
    "require_module_current": "pipeline",
    "write_module": "pipeline",
    "release_module": "release.publish",
    "find_stale": "drift",
    "generate_fleet": "fleet.files",
    "require_fleet_current": "fleet.files",
    "write_fleet": "fleet.files",
    "region_coverage": "aws.agent_buckets",
    "json_schema": "spec.load",
    "find_judges": "judges",
    "install_judges": "judges.env",
    "check_modules": "check",
    "validate_modules": "terraform.module_runs",
    "plan_modules": "terraform.module_runs",
    "run_all_module_tests": "terraform.module_runs",
}

if TYPE_CHECKING:
    from .aws.agent_buckets import region_coverage
    from .check import check_modules
    from .drift import find_stale
    from .fleet.files import generate_fleet, require_fleet_current, write_fleet
    from .judges import find_judges
    from .judges.env import install_judges
    from .pipeline import FORMATS, GeneratedModule, generate, load_spec, require_module_current, spec_policies, write_module
    from .release.publish import release_module
    from .spec.load import json_schema
    from .terraform.module_runs import plan_modules, run_all_module_tests, validate_modules


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "FORMATS",
    "CheckFailed",
    "GeneratedModule",
    "GenerationError",
    "OutputError",
    "SpecError",
    "SsmProfileError",
    "TerraformError",
    "__version__",
    "check_modules",
    "find_judges",
    "find_stale",
    "generate",
    "generate_fleet",
    "install_judges",
    "json_schema",
    "load_spec",
    "plan_modules",
    "region_coverage",
    "release_module",
    "require_fleet_current",
    "require_module_current",
    "run_all_module_tests",
    "spec_policies",
    "validate_modules",
    "write_fleet",
    "write_module",
]
