"""``import {}`` blocks that hand what already exists to a generated module.

Each resource the module creates maps to the ID the hashicorp/aws provider (5.x) documents for
importing it:

- ``aws_iam_role``: the role name —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_role#import
- ``aws_iam_instance_profile``: the profile name —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_instance_profile#import
- ``aws_iam_role_policy_attachment``: ``role-name/policy-arn`` —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_role_policy_attachment#import
- ``aws_iam_policy``: the policy ARN (its path included) —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_policy#import
- ``aws_ssm_service_setting``: the setting ID, as its ARN —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ssm_service_setting#import
- ``aws_vpc_endpoint``: the endpoint ID (``vpce-...``), which only the user knows —
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/vpc_endpoint#import

Addresses are the module's own (:mod:`ssm_profile.tfmodule.build` names them; a test ties
the two together on every example). The blocks go in the root module that calls the generated
module: Terraform before 1.16 accepts ``import`` blocks only in the root module —
https://developer.hashicorp.com/terraform/language/import#syntax
Pure: no files, no environment.
"""

from __future__ import annotations

import re

import msgspec

from ..errors import SpecError
from ..grants.build import Grants
from ..tfmodule.build import provider_alias
from ..tfmodule.document import Bare, Block, nested

DEFAULT_MODULE_ADDRESS = "module.ssm_profile"
DHMC_SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"
IMPORT_DOC = "https://developer.hashicorp.com/terraform/language/import"
REMOVED_DOC = "https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources"
#: Resource types ``imports`` adopts: every type a generated module creates.
ADOPTABLE_TYPES = (
    "aws_iam_role",
    "aws_iam_instance_profile",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy",
    "aws_ssm_service_setting",
    "aws_vpc_endpoint",
)

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# module.NAME, optionally indexed (count or for_each), possibly nested: Terraform's module
# address syntax — https://developer.hashicorp.com/terraform/cli/state/resource-addressing
_MODULE_STEP = r'module\.[A-Za-z_][A-Za-z0-9_-]*(?:\[(?:[0-9]+|"[A-Za-z0-9_.:/@+=,-]+")\])?'
_MODULE_ADDRESS = re.compile(rf"{_MODULE_STEP}(?:\.{_MODULE_STEP})*")
_VPC_ENDPOINT_ID = re.compile(r"vpce-[0-9a-f]{8,17}")


class ResourceImport(msgspec.Struct, frozen=True):
    """One resource of the module and the ID that imports it; ``field`` is the spec field it comes from."""

    address: str  # in the module: aws_iam_role.this
    id: str
    field: str
    kind: str  # what it is, in words: "role", "instance profile" ...


def check_account_id(account_id: str, option: str = "--account-id") -> str:
    """``account_id`` when it is 12 digits, else :class:`SpecError`."""
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise SpecError(option, f"{account_id!r} is not an AWS account ID (12 digits)")
    return account_id


def check_module_address(address: str) -> str:
    """``address`` when it is a module address (``module.ssm_profile``), else :class:`SpecError`."""
    if not _MODULE_ADDRESS.fullmatch(address):
        raise SpecError("--module-address", f"{address!r} is not a module address; e.g. module.ssm_profile or module.ssm[\"prod\"]")
    return address


def policy_arn(grants: Grants, account_id: str, name: str) -> str:
    """The ARN of a customer managed policy the module creates: its path is the role's path."""
    return f"arn:{grants.partition.id}:iam::{account_id}:policy{grants.role.path}{name}"


def setting_arn(grants: Grants, account_id: str, region: str) -> str:
    """The ARN of the Default Host Management service setting in ``region`` (UpdateServiceSetting's SettingId)."""
    return f"arn:{grants.partition.id}:ssm:{region}:{account_id}{':servicesetting'}{DHMC_SETTING}"


def module_imports(grants: Grants, account_id: str, vpc_endpoint_ids: dict[str, dict[str, str]] | None = None) -> list[ResourceImport]:
    """Every resource the module of ``grants`` creates, with its import ID, in the module's order.

    VPC endpoints are included only where ``vpc_endpoint_ids`` (Region -> service -> ID) names them.
    """
    found: list[ResourceImport] = []
    role = grants.role
    if role.create:
        found.append(ResourceImport("aws_iam_role.this", role.name, "role.name", "role"))
    if grants.instance_profile is not None:
        found.append(ResourceImport("aws_iam_instance_profile.this", grants.instance_profile.name, "instance_profile.name", "instance profile"))
    for policy in grants.managed_policies:
        found.append(_attachment(policy.key, role.name, policy.arn, f"managed_policies.{policy.key}"))
    for custom_policy in grants.custom_policies:
        arn = policy_arn(grants, account_id, custom_policy.name)
        where = "s3.policy_name" if custom_policy.purpose == "s3" else "session_manager.policy_name"
        found.append(ResourceImport(f"aws_iam_policy.{custom_policy.key}", arn, where, "policy"))
        found.append(_attachment(custom_policy.key, role.name, arn, where))
    custom = {p.key: policy_arn(grants, account_id, p.name) for p in grants.custom_policies}
    for service_role in grants.service_roles:
        where = f"{service_role.key}.role_name"  # default_host_management.role_name, hybrid.role_name
        found.append(ResourceImport(f"aws_iam_role.{service_role.key}", service_role.name, where, "role"))
        for policy in service_role.managed_policies:
            found.append(_attachment(service_role.managed_attachment_key(policy), service_role.name, policy.arn, where))
        for key in service_role.custom_policy_keys:
            found.append(_attachment(f"{service_role.key}_{key}", service_role.name, custom[key], where))
    for setup in grants.regional:
        alias = provider_alias(setup.region)
        if setup.default_host_management_role:
            address = f"aws_ssm_service_setting.default_host_management_{alias}"
            found.append(ResourceImport(address, setting_arn(grants, account_id, setup.region), "default_host_management.enabled", "service setting"))
        for endpoint in setup.endpoints:
            given = (vpc_endpoint_ids or {}).get(setup.region, {}).get(endpoint.service)
            if given:
                found.append(ResourceImport(f"aws_vpc_endpoint.{endpoint.service}_{alias}", given, "vpc_endpoints", "VPC endpoint"))
    return found


def _attachment(key: str, role_name: str, arn: str, field: str) -> ResourceImport:
    return ResourceImport(f"aws_iam_role_policy_attachment.{key}", f"{role_name}/{arn}", field, "policy attachment")


def check_endpoint_ids(grants: Grants, data: object, source: str) -> dict[str, dict[str, str]]:
    """The VPC endpoint IDs file (``{"us-east-2": {"ssm": "vpce-..."}}``, the shape of the
    module's ``vpc_endpoint_ids`` output) checked against the spec; :class:`SpecError` naming
    the entry when a Region, service or ID is not one the module has."""
    endpoints = {s.region: [e.service for e in s.endpoints] for s in grants.regional if s.endpoints}
    if not isinstance(data, dict):
        raise SpecError(source, 'must be a JSON object of Region -> service -> endpoint ID, e.g. {"us-east-2": {"ssm": "vpce-0123456789abcdef0"}}')
    for region, services in data.items():
        if region not in endpoints:
            allowed = ", ".join(endpoints) or "none (the spec creates no VPC endpoint)"
            raise SpecError(f"{source}: {region}", f"is not a Region where the module creates VPC endpoints; allowed: {allowed}")
        if not isinstance(services, dict):
            raise SpecError(f"{source}: {region}", "must be an object of service -> endpoint ID")
        for service, endpoint_id in services.items():
            if service not in endpoints[region]:
                raise SpecError(f"{source}: {region}.{service}", f"is not an endpoint of the module in {region}; allowed: {', '.join(endpoints[region])}")
            if not isinstance(endpoint_id, str) or not _VPC_ENDPOINT_ID.fullmatch(endpoint_id):
                raise SpecError(f"{source}: {region}.{service}", "is not a VPC endpoint ID (vpce- and 8 to 17 hex digits)")
    return data  # checked above


def import_blocks(imports: list[ResourceImport], module_address: str) -> list[Block]:
    """One ``import`` block per resource, addressed inside ``module_address``."""
    return [
        Block(
            "import",
            body={"to": Bare(f"{module_address}.{i.address}"), "id": i.id},
            comment=(f"{i.kind} from {i.field}",),
        )
        for i in imports
    ]


def removed_blocks(grants: Grants, module_address: str) -> list[Block]:
    """``removed`` blocks (Terraform >= 1.7) that stop managing Default Host Management without
    undoing it, for when the spec turns it off: destroying ``aws_ssm_service_setting`` resets the
    setting, which turns Default Host Management off in that Region, and the role it names stays
    in use. Empty when the module has no Default Host Management."""
    dhmc = [i for i in module_imports(grants, "000000000000") if i.field.startswith("default_host_management.")]
    # A removed block's `from` takes no instance keys (it covers every instance): REMOVED_DOC.
    every_instance = re.sub(r"\[[^\]]*\]", "", module_address)
    return [
        Block(
            "removed",
            body={"from": Bare(f"{every_instance}.{i.address}"), "lifecycle": nested(Block("lifecycle", body={"destroy": False}))},
            comment=(f"Default Host Management {i.kind}: Terraform forgets it, AWS keeps it ({REMOVED_DOC}).",),
        )
        for i in dhmc
    ]


def imports_text(blocks: list[Block], header: str) -> str:
    """The blocks as one HCL file (imports.tf), through the one HCL renderer (strings escaped)."""
    from ..render.hcl import render_blocks

    return render_blocks(blocks, header)
