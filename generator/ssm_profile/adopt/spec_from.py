"""A spec that reproduces an existing role, read from ``aws iam get-account-authorization-details``.

What maps: the role's name, path, description, session duration, permissions boundary and
tags; its instance profile's name; the AWS managed policies the spec knows
(``managed_policies``); a customer managed policy that grants only S3 object access
(``s3.policy_name``, ``s3.policy_description`` and ``s3.buckets``, with ``s3:PutObjectAcl`` read
as ``cross_account`` and ``s3:GetEncryptionConfiguration`` as ``encrypted``, as AWS's
instance-profile S3 policy documents them —
https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html);
and a Default Host Management role trusted by Systems Manager. Anything else is written as a
comment, so nothing is dropped silently. Pure: text in, text out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import SpecError, shown
from ..grants.service_roles import AWS_MANAGED_POLICIES, DEFAULT_HOST_MANAGEMENT_POLICY
from .account import AccountDetails, PolicyDetail, RoleDetail, as_list, statements_of

_OBJECTS = re.compile(r"arn:aws(?:-[a-z]+)*:s3:::(?P<bucket>[a-z0-9][a-z0-9.-]{1,253}[a-z0-9])/\*")
_BUCKET = re.compile(r"arn:aws(?:-[a-z]+)*:s3:::(?P<bucket>[a-z0-9][a-z0-9.-]{1,253}[a-z0-9])")
_S3_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:PutObjectAcl", "s3:GetEncryptionConfiguration"}
#: AWS-owned buckets SSM Agent reads (statement 1 of AWS's S3 policy): ``s3.vpc_endpoint``.
_AGENT_BUCKET_PREFIXES = ("aws-ssm-", "aws-windows-downloads-", "amazon-ssm-", "aws-patchmanager-macos-", "patch-baseline-snapshot-", "region-birdwatcher-")
DEFAULT_REGION_COMMENT = "IAM is global: the account's details name no Region. List the Regions your instances run in."


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text)


class _Toml:
    """Lines of a TOML file, section by section, with comments where something did not map."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        self.lines.append(f"# {text}".replace("\n", " "))

    def set(self, key: str, value: Any) -> None:
        self.lines.append(f"{key} = {_value(value)}")

    def section(self, name: str) -> None:
        self.lines += ["", f"[{name}]"]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items()) + " }"


def spec_from_role(details: AccountDetails, role_name: str, regions: list[str], source_label: str) -> str:
    """The TOML text of a spec that reproduces role ``role_name``; :class:`SpecError` when the
    account has no such role."""
    role = details.role(role_name)
    if role is None:
        names = ", ".join(sorted(r.name for r in details.roles)[:10])
        raise SpecError("--role", f"{role_name!r} is not a role in {details.source}; roles there include: {names}")
    out = _Toml()
    out.comment(f"Reproduces role {role.name} from {source_label} (ssm-profile spec-from).")
    out.comment("Check it, then: ssm-profile generate SPEC -o OUT && ssm-profile imports OUT --from FILE --account-id ID")
    out.set("version", 1)
    if not regions:
        out.comment(DEFAULT_REGION_COMMENT)
    out.set("regions", regions or ["us-east-1"])
    if details.partition != "aws":
        out.set("partition", details.partition)
    _role_section(out, role)
    _profile_section(out, role)
    s3 = _s3_policy(details, role)
    _managed_section(out, details, role, s3)
    if s3 is not None:
        _s3_section(out, s3)
    _dhmc_section(out, details, role)
    return "\n".join(out.lines) + "\n"


def _role_section(out: _Toml, role: RoleDetail) -> None:
    out.section("role")
    out.set("name", role.name)
    if role.path != "/":
        out.set("path", role.path)
    if role.description:
        out.set("description", role.description)
    elif role.description is None:
        out.comment("description: not in the account's details (it is listed only for roles in an instance profile)")
    if role.max_session_duration and role.max_session_duration != 3600:
        out.set("max_session_duration", role.max_session_duration)
    if role.permissions_boundary:
        out.set("permissions_boundary", role.permissions_boundary)
    if role.tags:
        out.set("tags", dict(sorted(role.tags.items())))
    services = role.trusted_services()
    if services not in (["ec2.amazonaws.com"], ["ec2.amazonaws.com.cn"]):  # the EC2 principal, in China too
        out.comment(f"not mapped: the role trusts {', '.join(services) or 'no service'}; the module's trust names the EC2 service only")
    for inline in role.inline_policies:
        out.comment(f"not mapped: the inline policy {inline!r} (the module does not manage inline policies)")


def _profile_section(out: _Toml, role: RoleDetail) -> None:
    profiles = role.instance_profiles
    if len(profiles) == 1 and profiles[0].name == role.name and profiles[0].path == role.path:
        return
    out.section("instance_profile")
    if not profiles:
        out.comment("the role is in no instance profile: the module creates one named after the role")
        return
    first = profiles[0]
    if first.name != role.name:
        out.set("name", first.name)
    if first.path != role.path:
        out.comment(f"not mapped: the instance profile's path {first.path!r}; the module gives it the role's path")
    for other in profiles[1:]:
        out.comment(f"not mapped: the role is also in instance profile {other.name!r}")


def _managed_section(out: _Toml, details: AccountDetails, role: RoleDetail, s3: PolicyDetail | None) -> None:
    out.section("managed_policies")
    arns = {f"arn:{details.partition}:iam::aws:policy/{name}": key for key, (name, _) in AWS_MANAGED_POLICIES.items()}
    attached = {arns[a] for a in role.attached if a in arns}
    for key in AWS_MANAGED_POLICIES:
        out.set(key, key in attached)
    for arn, name in sorted(role.attached.items()):
        if arn not in arns and (s3 is None or arn != s3.arn):
            out.comment(f"not mapped: {name} ({arn}) is attached; attach it outside the module, or keep it unmanaged")


def _s3_policy(details: AccountDetails, role: RoleDetail) -> PolicyDetail | None:
    """The first attached customer managed policy that grants only S3 object access."""
    for arn in sorted(role.attached):
        policy = details.policy(arn)
        if policy is not None and _grants_only_s3(policy):
            return policy
    return None


def _grants_only_s3(policy: PolicyDetail) -> bool:
    given = policy.document.get("Statement", [])
    statements = statements_of(policy.document)  # the Allow statements: a Deny does not map
    if not statements or len(statements) != len(given if isinstance(given, list) else [given]):
        return False
    return all(set(as_list(s.get("Action"))) <= _S3_ACTIONS and as_list(s.get("Resource")) and "Condition" not in s for s in statements)


def _s3_section(out: _Toml, policy: PolicyDetail) -> None:
    buckets: dict[str, dict[str, bool]] = {}
    agent = False
    for statement in statements_of(policy.document):
        actions = set(as_list(statement.get("Action")))
        for resource in as_list(statement.get("Resource")):
            objects, bucket = _OBJECTS.fullmatch(resource), _BUCKET.fullmatch(resource)
            matched = objects or bucket
            name = matched["bucket"] if matched else ""
            if name.startswith(_AGENT_BUCKET_PREFIXES):
                agent = True
                continue
            if not name:
                continue
            entry = buckets.setdefault(name, {"cross_account": False, "encrypted": False})
            entry["cross_account"] |= bool(objects) and "s3:PutObjectAcl" in actions
            entry["encrypted"] |= bool(bucket) and "s3:GetEncryptionConfiguration" in actions
    out.section("s3")
    out.set("policy_name", policy.name)
    out.set("policy_description", policy.description)
    if policy.path != "/":
        out.comment(f"the policy's path {policy.path!r} must equal role.path: the module puts its policies at the role's path")
    if agent:
        out.comment("the policy names AWS-owned buckets SSM Agent reads: statement 1 of AWS's policy, for instances behind VPC endpoints")
        out.set("vpc_endpoint", True)
    for name, flags in buckets.items():
        out.lines += ["", "[[s3.buckets]]"]
        out.set("name", name)
        out.set("cross_account", flags["cross_account"])
        out.set("encrypted", flags["encrypted"])


def _dhmc_section(out: _Toml, details: AccountDetails, instance_role: RoleDetail) -> None:
    """Default Host Management: a role trusted by Systems Manager with AWS's DHMC policy attached.

    ssm-profile attaches the instance role's custom policies to it by default (AWS: the custom
    S3 policy can be attached to the DHMC role); a role without them is reproduced with
    ``custom_policies = false``, so adopting it attaches nothing new."""
    arn = f"arn:{details.partition}:iam::aws:policy/{DEFAULT_HOST_MANAGEMENT_POLICY}"
    for role in details.roles:
        if arn in role.attached and role.path == "/service-role/" and any(s.startswith("ssm.") for s in role.trusted_services()):
            out.section("default_host_management")
            out.comment("the service setting is per Region and not in IAM's details: check it with")
            out.comment("aws ssm get-service-setting --setting-id /ssm/managed-instance/default-ec2-instance-management-role")
            out.set("enabled", True)
            out.set("role_name", role.name)
            customs = {arn for arn in instance_role.attached if details.policy(arn) is not None}
            if not customs or not customs <= set(role.attached):
                out.comment(f"{role.name} does not have {instance_role.name}'s custom policies attached; ssm-profile attaches them by default")
                out.set("custom_policies", False)
            return


def check_regions(regions: tuple[str, ...]) -> list[str]:
    """The ``--region`` values, each once; :class:`SpecError` for one given twice."""
    for region in regions:
        if regions.count(region) > 1:
            raise SpecError("--region", f"{shown(region)} is given twice")
    return list(regions)
