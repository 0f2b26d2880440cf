"""Reading a ``terraform show -json`` plan: the permission policies the module creates."""

from __future__ import annotations

from typing import Any

#: Resource types whose ``policy`` attribute is a permission (identity-based) policy.
PERMISSION_POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy")

_MODULE_PREFIX = "module.ssm_profile."


def module_address(address: str) -> str:
    """A plan address as an address inside the module: ``aws_iam_policy.s3``."""
    return address.removeprefix(_MODULE_PREFIX)


def permission_policies(plan: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The permission policy documents a plan creates, by module address, and the addresses
    whose policy is not known until apply (which no judge can read)."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for change in plan.get("resource_changes", []):
        if change.get("type") not in PERMISSION_POLICY_TYPES or change.get("mode", "managed") != "managed":
            continue
        if "delete" in change["change"]["actions"] and "create" not in change["change"]["actions"]:
            continue
        address = module_address(change["address"])
        text = (change["change"].get("after") or {}).get("policy")
        if isinstance(text, str):
            known[address] = text
        elif (change["change"].get("after_unknown") or {}).get("policy"):
            unknown.append(address)
    return dict(sorted(known.items())), sorted(unknown)


def policy_actions(document: dict[str, Any]) -> list[str]:
    """Every action an Allow or Deny statement names (``Action`` and ``NotAction``)."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    actions: list[str] = []
    for statement in statements:
        for key in ("Action", "NotAction"):
            value = statement.get(key, [])
            actions.extend([value] if isinstance(value, str) else value)
    return actions
