"""The spec against what exists: every difference the first plan after the imports would show.

A difference names the spec field and what exists. Those that make the provider replace a
resource (a ForceNew argument: a role's, instance profile's or policy's name and path, a
policy's description) block the adoption: the plan would destroy what is being adopted. The
others are updated in place, or created beside what exists, and are reported for the user to
read. Pure: the account's details come in parsed.
"""

from __future__ import annotations

import msgspec

from ..grants.build import Grants
from .account import AccountDetails, RoleDetail
from .imports import ResourceImport, policy_arn


class Difference(msgspec.Struct, frozen=True):
    """One line of the comparison; ``replaces``: the plan would replace (destroy) what exists;
    ``fails``: the apply would fail (the text says why)."""

    field: str
    text: str
    replaces: bool = False
    fails: bool = False

    def line(self) -> str:
        """The difference as the one line ``imports --from`` prints."""
        return f"{self.field}: {self.text}{' (the plan would replace it)' if self.replaces else ''}"


class Adoption(msgspec.Struct, frozen=True):
    """What ``imports --from`` found: the imports of what exists, and every difference."""

    imports: list[ResourceImport]
    differences: list[Difference]

    @property
    def blocked(self) -> bool:
        """Whether the plan would replace or destroy something that exists, or the apply fail."""
        return any(d.replaces or d.fails for d in self.differences)


def compare(grants: Grants, details: AccountDetails, imports: list[ResourceImport]) -> Adoption:
    """Compare the module of ``grants`` with ``details``; keep the imports of what exists."""
    found: list[Difference] = []
    exists: set[str] = set()
    roles = [("role", grants.role.name, grants.role.path, grants.role.create)]
    roles += [(f"{r.key}.role_name", r.name, r.path, True) for r in grants.service_roles]
    for field, name, path, create in roles:
        role = details.role(name)
        name_field = "role.name" if field == "role" else field
        if role is None and create:
            found.append(Difference(name_field, f"no role {name!r} exists; the plan creates it"))
        elif role is None:
            found.append(Difference(name_field, f"no role {name!r} exists, and role.create is false: the apply would fail attaching to it", fails=True))
        if role is None:
            continue
        exists.add(name)
        found += _role_differences(field, name, path, role, create)
        if field == "role":
            found += _instance_role_differences(grants, role)
    found += _profile_differences(grants, details)
    found += _policy_differences(grants, details)
    kept = [i for i in imports if _exists(i, grants, details)]
    return Adoption(imports=kept, differences=found)


def _role_differences(field: str, name: str, path: str, role: RoleDetail, create: bool) -> list[Difference]:
    name_field = "role.name" if field == "role" else field
    path_field = "role.path" if field == "role" else field
    out = []
    if role.name != name:
        out.append(Difference(name_field, f"{name!r}, but the role is named {role.name!r}", replaces=create))
    if create and role.path != path:
        out.append(Difference(path_field, f"{path!r}, but role {role.name} has path {role.path!r}", replaces=True))
    return out


def _instance_role_differences(grants: Grants, role: RoleDetail) -> list[Difference]:
    out = []
    spec_role = grants.role
    if spec_role.create:
        services = role.trusted_services()
        if services != [spec_role.trusted_service]:
            out.append(Difference("role", f"role {role.name} trusts {', '.join(services) or 'no service'}; the module trusts only {spec_role.trusted_service} (updated in place)"))
        if role.permissions_boundary != spec_role.permissions_boundary:
            out.append(Difference("role.permissions_boundary", f"{spec_role.permissions_boundary!r}, but role {role.name} has {role.permissions_boundary!r} (updated in place)"))
        if role.description is not None and role.description != spec_role.description:
            out.append(Difference("role.description", f"{spec_role.description!r}, but role {role.name} has {role.description!r} (updated in place)"))
        if role.max_session_duration is not None and role.max_session_duration != spec_role.max_session_duration:
            out.append(Difference("role.max_session_duration", f"{spec_role.max_session_duration}, but role {role.name} has {role.max_session_duration} (updated in place)"))
        if role.tags != grants.tags:
            out.append(Difference("role.tags", f"{grants.tags}, but role {role.name} has {role.tags} (updated in place)"))
    wanted = {p.arn for p in grants.managed_policies}
    for policy in grants.managed_policies:
        if policy.arn not in role.attached:
            out.append(Difference(f"managed_policies.{policy.key}", f"{policy.name} is not attached to role {role.name}; the plan attaches it"))
    own = {policy_name for policy_name in (p.name for p in grants.custom_policies)}
    for arn, policy_name in sorted(role.attached.items()):
        if arn not in wanted and policy_name not in own:
            out.append(Difference("managed_policies", f"role {role.name} also has {policy_name} attached, which the spec does not attach (left as it is, unmanaged)"))
    for inline in role.inline_policies:
        out.append(Difference("role", f"role {role.name} has the inline policy {inline!r}, which the module does not manage (left as it is)"))
    return out


def _profile_differences(grants: Grants, details: AccountDetails) -> list[Difference]:
    profile = grants.instance_profile
    if profile is None:
        return []
    found = details.instance_profile(profile.name)
    if found is None:
        role = details.role(grants.role.name)
        others = ", ".join(p.name for p in role.instance_profiles) if role else ""
        hint = f"; role {role.name} is in {others} (set instance_profile.name to adopt it)" if role and others else ""
        return [Difference("instance_profile.name", f"no instance profile {profile.name!r} exists; the plan creates it{hint}")]
    existing, holder = found
    out = []
    if existing.name != profile.name:
        out.append(Difference("instance_profile.name", f"{profile.name!r}, but the instance profile is named {existing.name!r}", replaces=True))
    if existing.path != profile.path:
        out.append(Difference("role.path", f"{profile.path!r} is also the instance profile's path, but {existing.name} has path {existing.path!r}", replaces=True))
    if holder.name.lower() != grants.role.name.lower():
        out.append(Difference("instance_profile.name", f"{existing.name} holds role {holder.name}, not {grants.role.name} (updated in place: the profile's role is swapped)"))
    return out


def _policy_differences(grants: Grants, details: AccountDetails) -> list[Difference]:
    out = []
    for policy in grants.custom_policies:
        field = "s3" if policy.purpose == "s3" else "session_manager"
        existing = details.policy_named(policy.name)
        if existing is None:
            out.append(Difference(f"{field}.policy_name", f"no policy {policy.name!r} exists; the plan creates it"))
            continue
        if existing.arn != policy_arn(grants, details.account, policy.name):
            out.append(Difference("role.path", f"{grants.role.path!r} is also the path of policy {policy.name}, but it has path {existing.path!r}", replaces=True))
        if existing.description != policy.description:
            where = "s3.policy_description" if field == "s3" else f"{field}.policy_name"
            out.append(Difference(where, f"{policy.description!r}, but policy {existing.name} has description {existing.description!r}", replaces=True))
        if _canonical(existing.document) != _canonical(policy.document()):
            out.append(Difference(f"{field}.policy_name", f"policy {existing.name}'s document differs from what the spec grants (updated in place: a new default version)"))
    return out


def _canonical(document: dict[str, object]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """A document's statements as comparable tuples: IAM and the provider ignore the order of
    actions and resources (a string and a one-item list are the same)."""
    from .account import as_list, statements_of

    return sorted((str(s.get("Sid", "")), tuple(sorted(as_list(s.get("Action")))), tuple(sorted(as_list(s.get("Resource"))))) for s in statements_of(document))


def _exists(item: ResourceImport, grants: Grants, details: AccountDetails) -> bool:
    """Whether the object ``item`` imports exists in ``details`` (the service settings and VPC
    endpoints are not in IAM's details: they are kept)."""
    kind = item.address.split(".")[0]
    if kind == "aws_iam_role":
        return details.role(item.id) is not None
    if kind == "aws_iam_instance_profile":
        return details.instance_profile(item.id) is not None
    if kind == "aws_iam_policy":
        return details.policy(item.id) is not None
    if kind == "aws_iam_role_policy_attachment":
        role_name, _, arn = item.id.partition("/")
        role = details.role(role_name)
        return role is not None and arn in role.attached
    return True
