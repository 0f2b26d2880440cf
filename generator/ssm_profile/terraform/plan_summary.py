"""A plan a reviewer can read: what changes, by address, and what each policy grants.

Built from the ``terraform show -json`` document of a plan; prints as text (``ssm-profile
plan``) or as Markdown for a pull-request comment (``ssm-profile plan --markdown FILE``).
Pure: no disk, no Terraform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: Terraform's action lists, named the way its own plan output names them.
ACTION_NAMES = {
    ("create",): "add",
    ("update",): "change",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("read",): "read",
    ("no-op",): "unchanged",
}
_ORDER = ("add", "change", "replace", "destroy", "read", "unchanged")
_POLICY_ATTRIBUTES = {"aws_iam_policy": "policy", "aws_iam_role_policy": "policy"}


@dataclass(frozen=True)
class PolicyGrants:
    """One permission policy the plan writes: its address, name and statements."""

    address: str
    name: str
    statements: tuple[dict[str, Any], ...] | None  # None: known only after apply


@dataclass(frozen=True)
class PlanSummary:
    """Resource addresses per action, managed policies attached, and custom policies' grants."""

    changes: dict[str, tuple[str, ...]]
    attached: tuple[str, ...]
    policies: tuple[PolicyGrants, ...]

    def counts(self) -> str:
        """``23 to add, 1 to change`` (``no changes`` when nothing changes)."""
        parts = [f"{len(addresses)} to {action}" for action, addresses in self.changes.items() if action != "unchanged"]
        return ", ".join(parts) or "no changes"

    def text(self) -> list[str]:
        """The summary as indented lines for a terminal."""
        lines: list[str] = []
        for action, addresses in self.changes.items():
            if action == "unchanged":
                continue
            lines.append(f"  to {action} ({len(addresses)}):")
            lines.extend(f"    {address}" for address in addresses)
        if self.attached:
            lines.append("  AWS managed policies attached:")
            lines.extend(f"    {arn}" for arn in self.attached)
        for policy in self.policies:
            lines.append(f"  grants of {policy.address} ({policy.name}):")
            if policy.statements is None:
                lines.append("    (known after apply)")
                continue
            for statement in policy.statements:
                lines.append(f"    {_statement_line(statement)}")
        return lines

    def markdown(self, title: str) -> str:
        """The summary as a Markdown comment for a pull request."""
        out = [f"### ssm-profile plan: {title}", "", f"**{self.counts()}**", ""]
        for action, addresses in self.changes.items():
            if action == "unchanged":
                continue
            out += [f"<details><summary>to {action} ({len(addresses)})</summary>", ""]
            out += [f"- `{address}`" for address in addresses]
            out += ["", "</details>", ""]
        if self.attached:
            out += ["#### AWS managed policies attached", ""] + [f"- `{arn}`" for arn in self.attached] + [""]
        for policy in self.policies:
            out += [f"#### Grants of `{policy.address}` ({policy.name})", ""]
            if policy.statements is None:
                out += ["Known only after apply.", ""]
                continue
            out += ["| Sid | Effect | Actions | Resources | Condition |", "|---|---|---|---|---|"]
            for statement in policy.statements:
                out.append(
                    "| {sid} | {effect} | {actions} | {resources} | {condition} |".format(
                        sid=statement.get("Sid", ""),
                        effect=statement.get("Effect", ""),
                        actions="<br>".join(f"`{a}`" for a in _as_list(statement.get("Action"))),
                        resources="<br>".join(f"`{r}`" for r in _as_list(statement.get("Resource"))),
                        condition=f"`{json.dumps(statement['Condition'], sort_keys=True)}`" if statement.get("Condition") else "",
                    )
                )
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def summarise_plan(plan: dict[str, Any]) -> PlanSummary:
    """Read a ``terraform show -json`` plan document into a :class:`PlanSummary`."""
    grouped: dict[str, list[str]] = {}
    attached: list[str] = []
    policies: list[PolicyGrants] = []
    for change in plan.get("resource_changes", []):
        actions = tuple(change["change"]["actions"])
        grouped.setdefault(ACTION_NAMES.get(actions, "/".join(actions)), []).append(change["address"])
        after = change["change"].get("after") or {}
        if "delete" in actions and "create" not in actions:
            continue
        if (
            change.get("type") == "aws_iam_role_policy_attachment"
            and isinstance(after.get("policy_arn"), str)
            and ":aws:policy/" in after["policy_arn"]
        ):
            attached.append(after["policy_arn"])
        attribute = _POLICY_ATTRIBUTES.get(change.get("type", ""))
        if attribute:
            document = after.get(attribute)
            statements = None
            if isinstance(document, str):
                statements = tuple(json.loads(document).get("Statement", ()))
            policies.append(PolicyGrants(change["address"], str(after.get("name") or change.get("name", "")), statements))
    changes = {action: tuple(sorted(grouped[action])) for action in sorted(grouped, key=_action_rank)}
    return PlanSummary(changes, tuple(sorted(set(attached))), tuple(sorted(policies, key=lambda p: p.address)))


def _action_rank(action: str) -> tuple[int, str]:
    return (_ORDER.index(action) if action in _ORDER else len(_ORDER), action)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _statement_line(statement: dict[str, Any]) -> str:
    actions = ", ".join(_as_list(statement.get("Action")))
    resources = _as_list(statement.get("Resource"))
    shown = ", ".join(resources[:3]) + (f" (+{len(resources) - 3} more)" if len(resources) > 3 else "")
    condition = " when " + json.dumps(statement["Condition"], sort_keys=True) if statement.get("Condition") else ""
    sid = f"{statement['Sid']}: " if statement.get("Sid") else ""
    return f"{sid}{statement.get('Effect', 'Allow')} {actions} on {shown}{condition}"
