"""Every gate on generated modules in one run: what ``ssm-profile check`` does.

:func:`check_modules` (:mod:`.gate`) runs, per module, drift against its spec, ``terraform
fmt``, one shared ``init``, ``validate``, ``plan``, the module's own ``terraform test`` files
and the judges, and returns one :class:`CheckReport` (:mod:`.report`) per module.
"""

from __future__ import annotations

from .gate import TERRAFORM_VERSIONS, check_modules, skipped_steps
from .report import SKIPPABLE, STATUSES, CheckReport, StepResult
from .steps import FMT_SUFFIXES, hcl_as_generated

__all__ = [
    "FMT_SUFFIXES",
    "SKIPPABLE",
    "STATUSES",
    "TERRAFORM_VERSIONS",
    "CheckReport",
    "StepResult",
    "check_modules",
    "hcl_as_generated",
    "skipped_steps",
]
