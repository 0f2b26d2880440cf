"""ssm-profile: Terraform modules for AWS's instance profile for Systems Manager.

The public API is one pipeline, each stage a module::

    spec file --spec--> Spec --grants--> Grants --module--> Document --render--> files --writer--> OUT

``generate`` runs the pure stages and returns the files; ``write_module`` puts them on disk.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import CheckFailed, GenerationError, OutputError, SpecError, SsmProfileError, TerraformError
from .pipeline import FORMATS, GeneratedModule, generate, load_spec
from .writer import check_module, write_module

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
