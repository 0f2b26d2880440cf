"""checkov on the module folder (framework ``terraform`` for HCL, ``terraform_json`` for
Terraform JSON) and on the plan (``terraform_plan``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import JudgeError
from .findings import Checked, Finding
from .plan import module_address
from .suppressions import SUPPRESSIONS_FILE
from .tools import JudgeTools, WaitingCheckov, run_tool


def _reports(output: str, framework: str) -> list[dict[str, Any]]:
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        raise JudgeError(f"checkov ({framework}) printed no JSON report: {output.strip()[:200]!r}") from None
    return report if isinstance(report, list) else [report]


def passed_checks(output: str, framework: str = "terraform") -> int:
    """How many checks passed in checkov's ``--output json`` report."""
    return sum(int(part.get("summary", part).get("passed", 0)) for part in _reports(output, framework))


def checks_run(output: str, framework: str = "terraform") -> int:
    """How many checks checkov ran (passed, failed or skipped): 0 means it checked nothing,
    as when the framework does not fit the files."""
    return sum(
        int(part.get("summary", part).get(key, 0)) for part in _reports(output, framework) for key in ("passed", "failed", "skipped")
    )


def parse(output: str, judge: str = "checkov (module)", framework: str = "terraform") -> list[Finding]:
    """The findings of checkov's ``--output json`` report: failed checks, inline skips (never
    allowed inside the module) and files checkov could not parse."""
    findings: list[Finding] = []
    for part in _reports(output, framework):
        summary = part.get("summary", part)
        results = part.get("results", {})
        for failed in results.get("failed_checks", []):
            findings.append(Finding(judge, failed["check_id"], module_address(failed.get("resource", "")), failed.get("check_name", "")))
        for skipped in results.get("skipped_checks", []):
            findings.append(
                Finding(
                    judge,
                    "INLINE_SKIP",
                    module_address(skipped.get("resource", "")),
                    f"{skipped['check_id']} skipped inside the module; suppressions belong in {SUPPRESSIONS_FILE}",
                )
            )
        if int(summary.get("parsing_errors", 0)):
            for path in results.get("parsing_errors", []) or ["?"]:
                findings.append(Finding(judge, "PARSE_ERROR", "", f"checkov could not parse {path}"))
    return findings


def _checkov(
    tools: JudgeTools, target: list[str], framework: str, judge: str, waiting: WaitingCheckov | None = None
) -> tuple[Checked, list[Finding]]:
    argv = [*target, "--framework", framework, "--skip-download", "--output", "json", "--quiet", "--compact"]
    what = f"checkov ({framework})"
    if waiting is not None:
        out = waiting.run(argv, what)
    else:
        out = run_tool(tools, [str(tools.checkov), *argv], ok_codes=(0, 1), what=what)
    return Checked(f"{passed_checks(out, framework)} checks passed", checks_run(out, framework)), parse(out, judge, framework)


#: checkov's framework for a module's files, by the module's format. Framework ``terraform``
#: reads only ``*.tf``: on a Terraform JSON module it runs 0 checks.
MODULE_FRAMEWORKS = {"hcl": "terraform", "json": "terraform_json"}
#: checkov 3.3's terraform_json parser takes every top-level block as named blocks, so the
#: ``terraform`` block of versions.tf.json (settings, not resources: nothing to check) is a
#: parsing error ("this method receives only dicts"); the folder is judged without it.
JSON_SKIP_PATH = r"versions\.tf\.json$"


def judge_module_with_checkov(module_dir: Path, tools: JudgeTools, format: str = "hcl") -> tuple[Checked, list[Finding]]:
    """checkov on the module folder, with the framework of the module's ``format`` (``hcl``
    or ``json``)."""
    framework = MODULE_FRAMEWORKS[format]
    target = ["--directory", str(module_dir)] + (["--skip-path", JSON_SKIP_PATH] if format == "json" else [])
    return _checkov(tools, target, framework, "checkov (module)")


def judge_plan_with_checkov(
    plan_file: Path, tools: JudgeTools, waiting: WaitingCheckov | None = None
) -> tuple[Checked, list[Finding]]:
    """checkov, framework ``terraform_plan``, on a ``terraform show -json`` file (in
    ``waiting``, a checkov process started earlier, when given)."""
    return _checkov(tools, ["--file", str(plan_file)], "terraform_plan", "checkov (plan)", waiting)
