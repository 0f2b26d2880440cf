"""parliament, with its community auditors, on every permission policy the plan creates."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from .findings import Checked, Finding
from .plan import permission_policies
from .tools import JudgeTools, run_tool


def parse(output: str, files: dict[str, str]) -> list[Finding]:
    """The findings of parliament's ``--json`` output (one JSON object a line); ``files`` maps
    each policy file parliament read to the module address of its policy."""
    return [_finding(json.loads(line), files) for line in output.splitlines() if line.strip()]


def _finding(raw: dict[str, Any], files: dict[str, str]) -> Finding:
    location = raw.get("location") or {}
    detail = raw.get("detail")
    if location.get("actions"):
        actions = tuple(location["actions"])
    elif isinstance(detail, list) and all(isinstance(d, str) for d in detail):
        actions = tuple(detail)
    elif location.get("string"):
        actions = (location["string"],)
    else:
        actions = ()
    message = raw.get("title", "")
    if isinstance(detail, str) and detail:
        message += f" ({detail})"
    return Finding(
        "parliament", raw.get("issue", "UNKNOWN"), files.get(location.get("filepath", ""), ""), message, tuple(sorted(actions))
    )


def judge_policies_with_parliament(plan: dict[str, Any], tools: JudgeTools) -> tuple[Checked, list[Finding]]:
    """parliament with its community auditors on every permission policy of the plan."""
    policies, unknown = permission_policies(plan)
    findings = [
        Finding("parliament", "POLICY_UNKNOWN_AT_PLAN", address, "the policy document is not known until apply, so no judge can read it")
        for address in unknown
    ]
    if policies:
        with tempfile.TemporaryDirectory(prefix="ssm-profile-parliament-") as tmp:
            files: dict[str, str] = {}
            for index, (address, text) in enumerate(policies.items()):
                path = Path(tmp) / f"policy-{index}.json"
                path.write_text(text, encoding="utf-8")
                files[str(path)] = address
            # --files, not --file or stdin: parliament's --file needs a terminal, and stdin takes one policy.
            out = run_tool(
                tools,
                [str(tools.parliament), "--include-community-auditors", "--json", "--minimum_severity", "INFO", "--files", ",".join(files)],
                ok_codes=(0, 1),
                what="parliament",
            )
            findings += parse(out, files)
    return Checked(f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'}", len(policies) + len(unknown)), findings
