"""What changed between two releases of a module, and the semver level that change requires.

Levels, from what a caller of the module sees (issue 14; https://semver.org):

- major — the caller's unchanged root breaks or loses something: a new required input or
  provider alias; a removed input, output or alias; a changed input type or a tightened
  validation; a resource destroyed or replaced that no ``moved`` block carries over; a grant
  removed (a workload on the instances may rely on it);
- minor — resources, outputs, optional inputs or grants added; nothing removed or replaced;
- patch — in-place updates only (descriptions, tags), docs, formatting.

Pure: no disk, no environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .interface import Interface, interface_reasons, region_of
from .inventory import Resource, changed_attributes, detect_moves, forces_replacement
from .versions import Level, Reason


@dataclass(frozen=True)
class ReleaseChanges:
    """What a release changes in the generated resources and grants, since the previous release."""

    first: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # address, attributes, replaced
    moved: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # from, to, attributes changed too
    grants_added: dict[str, tuple[str, ...]] = field(default_factory=dict)
    grants_removed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.added or self.removed or self.changed or self.moved or self.grants_added or self.grants_removed)


def diff_releases(
    old: dict[str, Resource] | None,
    old_grants: dict[str, tuple[str, ...]],
    resources: dict[str, Resource],
    grants: dict[str, tuple[str, ...]],
) -> ReleaseChanges:
    """What changed from the ``old`` inventory and grants (None: the first release) to ``resources`` and ``grants``."""
    if old is None:
        return ReleaseChanges(first=True, added=tuple(resources), grants_added={k: v for k, v in grants.items() if v})
    moves = detect_moves(old, resources)
    moved_from, moved_to = {m[0] for m in moves}, {m[1] for m in moves}
    changed = []
    for address in sorted(old.keys() & resources.keys()):
        attributes = changed_attributes(old[address], resources[address])
        if attributes:
            changed.append((address, attributes, forces_replacement(old[address], resources[address])))
    grants_added, grants_removed = {}, {}
    for name in sorted(old_grants.keys() | grants.keys()):
        before, after = set(old_grants.get(name, ())), set(grants.get(name, ()))
        if after - before:
            grants_added[name] = tuple(sorted(after - before))
        if before - after:
            grants_removed[name] = tuple(sorted(before - after))
    return ReleaseChanges(
        first=False,
        added=tuple(a for a in resources if a not in old and a not in moved_to),
        removed=tuple(a for a in old if a not in resources and a not in moved_from),
        changed=tuple(changed),
        moved=tuple((source, target, changed_attributes(old[source], resources[target])) for source, target in moves),
        grants_added=grants_added,
        grants_removed=grants_removed,
    )


@dataclass(frozen=True)
class Assessment:
    """A release's changes, the level they require, and why (reasons, most severe first)."""

    changes: ReleaseChanges
    reasons: tuple[Reason, ...] = ()
    interface_reasons: tuple[Reason, ...] = ()
    #: Which of the spec's tags changed and how (:func:`describe_tag_change`); empty: none.
    tag_change: str = ""

    def attribute_text(self, attributes: tuple[str, ...]) -> str:
        """Changed attributes for a reader: ``policy, tags (Team "a" -> "b")``."""
        return ", ".join(f"tags ({self.tag_change})" if a == "tags" and self.tag_change else a for a in attributes)

    @property
    def level(self) -> Level:
        """The smallest level that describes every change (patch when nothing changed, and for a first release)."""
        return max((reason.level for reason in self.reasons), default=Level.PATCH)

    @property
    def breaking(self) -> tuple[Reason, ...]:
        """The reasons that make the change major: what a caller must act on."""
        return tuple(reason for reason in self.reasons if reason.level is Level.MAJOR)

    def above(self, level: Level) -> tuple[Reason, ...]:
        """The reasons that need more than ``level``."""
        return tuple(reason for reason in self.reasons if reason.level > level)


def assess(
    changes: ReleaseChanges,
    old: dict[str, Resource],
    new: dict[str, Resource],
    old_interface: Interface | None,
    interface: Interface,
    old_version: str = "",
    tag_change: str = "",
) -> Assessment:
    """Classify ``changes`` (and the interface change) into reasons with their levels.

    ``old_interface`` is None for a release record written before interfaces were recorded
    (format 1): then inputs, outputs and aliases cannot be compared, and the change counts as
    breaking — a wrong number is worse than a cautious one. ``tag_change`` says which tags
    changed and how (:func:`describe_tag_change`), for the resources updated in place.
    """
    if changes.first:
        return Assessment(changes)
    if old_interface is None:
        on_interface = [Reason(
            Level.MAJOR,
            f"the record of {old_version or 'the last release'} predates interface tracking (record format 1): "
            "inputs, outputs and provider aliases cannot be compared, so the change counts as breaking",
            "Compare the module's variables, outputs and versions files with the previous release's before upgrading.",
        )]
    else:
        on_interface = interface_reasons(old_interface, interface)
    removed_regions = {region_of(a) for a in (old_interface.aliases if old_interface else ()) if a not in interface.aliases}
    reasons = list(on_interface)
    for address in changes.removed:
        reasons.append(Reason(
            Level.MAJOR, f"{address} destroyed (no moved block carries it over)",
            f"Terraform destroys `{address}` ({old[address].identity_text or old[address].type}): {_why_gone(old[address], removed_regions)}.",
        ))
    for address, attributes, replaced in changes.changed:
        if replaced:
            reasons.append(Reason(
                Level.MAJOR, f"{address} replaced ({', '.join(attributes)} changed; AWS cannot update it in place)",
                f"Terraform destroys `{address}` ({old[address].identity_text}) and creates it as "
                f"{new[address].identity_text or 'new'}: whatever refers to the old object by name or ARN outside "
                "this module (running instances, other policies) must follow.",
            ))
    for name, pairs in changes.grants_removed.items():
        for action, resources in _by_action(pairs).items():
            reasons.append(Reason(
                Level.MAJOR, f"grant removed: {name} no longer allows {action} on {', '.join(resources)}",
                f"Workloads on the instances that use `{action}` on {'these resources' if len(resources) > 1 else f'`{resources[0]}`'} "
                "lose that permission: grant it another way before upgrading, or keep it in the spec.",
            ))
    reasons += [Reason(Level.MINOR, f"new resource {address}{_attachment_grant(new[address])}") for address in changes.added]
    for name, pairs in changes.grants_added.items():
        for action, resources in _by_action(pairs).items():
            reasons.append(Reason(Level.MINOR, f"grant added: {name} allows {action} on {', '.join(resources)}"))
    reasons += [Reason(Level.PATCH, f"{source} moved to {target} (a moved block keeps the object)") for source, target, _ in changes.moved]
    reasons += _in_place(changes, tag_change)
    reasons.sort(key=lambda reason: -reason.level)
    return Assessment(changes, tuple(reasons), tuple(on_interface), tag_change)


def _in_place(changes: ReleaseChanges, tag_change: str) -> list[Reason]:
    named = Assessment(changes, tag_change=tag_change)
    return [
        Reason(Level.PATCH, f"{address} updated in place ({named.attribute_text(attributes)})")
        for address, attributes, replaced in changes.changed
        if not replaced
    ]


def _attachment_grant(resource: Resource) -> str:
    """For a new policy attachment, the grant it adds in the caller's terms: which role gets which policy."""
    if resource.type != "aws_iam_role_policy_attachment":
        return ""
    identity = dict(resource.identity)
    arn = identity.get("policy_arn", "")
    # A policy of the module is named by reference (aws_iam_policy[name=X].arn), an AWS managed one by ARN.
    policy = arn.split("[name=", 1)[1].split("]", 1)[0] if "[name=" in arn else arn.rsplit("/", 1)[-1]
    return f" (grant added: role {identity.get('role', '')} gets the policy {policy})"


def _by_action(pairs: tuple[str, ...]) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for pair in pairs:
        action, resource = pair.split(" ", 1)
        table.setdefault(action, []).append(resource)
    return table


def _why_gone(resource: Resource, removed_regions: set[str]) -> str:
    """Why a resource left the module, in the caller's terms, from its type and identity."""
    identity = dict(resource.identity)
    if resource.type == "aws_vpc_endpoint":
        service = identity.get("service_name", "")
        region = next((r for r in removed_regions if f".{r}." in service), "")
        where = f"its Region {region} left the spec" if region else "its service left the spec's vpc_endpoints"
        return f"{where}; instances in that VPC no longer reach {service} privately"
    if resource.type == "aws_ssm_service_setting":
        return "the spec no longer manages Default Host Management in that Region"
    if resource.type == "aws_iam_role_policy_attachment":
        return f"role `{identity.get('role', '')}` loses the permissions of `{identity.get('policy_arn', '')}`"
    return "the spec no longer asks for it"


def describe_tag_change(old: dict[str, str] | None, new: dict[str, str]) -> str:
    """Which of the spec's tags changed and how: ``Team "platform" -> "ops"; Owner = "sre" added;
    CostCenter removed (was "1234")``; empty when none did. ``old`` None: the last release's
    record predates tag values, so only the new ones can be named."""
    if old is None:
        now = ", ".join(f"{key} = {json.dumps(value)}" for key, value in sorted(new.items())) or "none"
        return f"now {now} (the last release's record predates tag values)"
    parts = [f"{key} {json.dumps(old[key])} -> {json.dumps(new[key])}" for key in sorted(old.keys() & new.keys()) if old[key] != new[key]]
    parts += [f"{key} = {json.dumps(new[key])} added" for key in sorted(new.keys() - old.keys())]
    parts += [f"{key} removed (was {json.dumps(old[key])})" for key in sorted(old.keys() - new.keys())]
    return "; ".join(parts)
