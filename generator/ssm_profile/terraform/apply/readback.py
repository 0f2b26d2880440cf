"""Checks of an applied module, read back from the emulator's API (never from Terraform state).

Every expectation comes from the saved plan (``terraform show -json``): what Terraform said it
would create is compared with what the AWS API now returns. :func:`inventory` is the emulator's
whole content of the kinds a module creates, taken before and after a run to prove nothing is
left behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..harness import provider_bindings

#: A boto3 client of a service in a Region. IAM is global within a partition: its client takes
#: any Region of the module's partition (the emulator, like AWS, keeps one IAM per partition).
ClientFactory = Callable[[str, str], Any]


@dataclass(frozen=True)
class Planned:
    """One resource the plan creates: its type, planned values, Region and references."""

    address: str
    type: str
    after: dict[str, Any]
    region: str
    references: dict[str, tuple[str, ...]]


def planned_resources(plan: dict[str, Any]) -> list[Planned]:
    """The resources ``plan`` creates, with the Region of their provider and their references."""
    bindings = provider_bindings(plan)
    references: dict[str, dict[str, tuple[str, ...]]] = {}

    def walk(module: dict[str, Any], prefix: str) -> None:
        for resource in module.get("resources", []):
            expressions = resource.get("expressions", {})
            references[prefix + resource["address"]] = {
                name: tuple(value.get("references", ())) for name, value in expressions.items() if isinstance(value, dict)
            }
        for name, call in module.get("module_calls", {}).items():
            walk(call.get("module", {}), f"{prefix}module.{name}.")

    walk(plan.get("configuration", {}).get("root_module", {}), "")
    return [
        Planned(
            address=change["address"],
            type=change["type"],
            after=change["change"].get("after") or {},
            region=bindings.get(change["address"], {}).get("region", ""),
            references=references.get(change["address"], {}),
        )
        for change in plan.get("resource_changes", [])
        if change.get("mode") == "managed" and "create" in change["change"]["actions"]
    ]


def _policy_arn(partition: str, account: str, after: dict[str, Any]) -> str:
    return f"arn:{partition}:iam::{account}:policy{after.get('path') or '/'}{after['name']}"


def _document(iam: Any, policy_arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"]
    return iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]["Document"]


def _attachment_arn(item: Planned, by_address: dict[str, Planned], partition: str, account: str) -> str:
    """The policy ARN an attachment names: planned, or the ARN of the policy it references."""
    if item.after.get("policy_arn"):
        return item.after["policy_arn"]
    module_prefix = item.address.rsplit(".", 2)[0] + "."
    for reference in item.references.get("policy_arn", ()):
        target = by_address.get(module_prefix + reference.removesuffix(".arn"))
        if target is not None and target.type == "aws_iam_policy":
            return _policy_arn(partition, account, target.after)
    return "(unknown at plan time)"


@dataclass(frozen=True)
class _Context:
    client: ClientFactory
    partition: str
    account: str
    by_address: dict[str, Planned]
    home_region: str

    @property
    def iam(self) -> Any:
        return self.client("iam", self.home_region)


def _role(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after

    def check() -> str:
        found = ctx.iam.get_role(RoleName=after["name"])["Role"]
        if found["AssumeRolePolicyDocument"] != json.loads(after["assume_role_policy"]):
            return f"trust policy differs: {json.dumps(found['AssumeRolePolicyDocument'])}"
        return "" if found["Path"] == after["path"] else f"path {found['Path']!r}, planned {after['path']!r}"

    return f"role {after['name']}: trust policy and path as planned", check


def _instance_profile(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after

    def check() -> str:
        roles = [r["RoleName"] for r in ctx.iam.get_instance_profile(InstanceProfileName=after["name"])["InstanceProfile"]["Roles"]]
        return "" if roles == [after["role"]] else f"holds {roles}, planned [{after['role']!r}]"

    return f"instance profile {after['name']}: holds role {after['role']}", check


def _policy(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after

    def check() -> str:
        found = _document(ctx.iam, _policy_arn(ctx.partition, ctx.account, after))
        return "" if found == json.loads(after["policy"]) else f"document differs from the plan: {json.dumps(found)}"

    return f"policy {after['name']}: document equals the plan's", check


def _attachment(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after
    arn = _attachment_arn(item, ctx.by_address, ctx.partition, ctx.account)

    def check() -> str:
        attached = [p["PolicyArn"] for p in ctx.iam.list_attached_role_policies(RoleName=after["role"])["AttachedPolicies"]]
        return "" if arn in attached else f"not attached (attached: {', '.join(attached) or 'none'})"

    return f"attachment {arn.rsplit('/', 1)[-1]} -> {after['role']}", check


def _endpoint(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after

    def check() -> str:
        filters = [{"Name": "service-name", "Values": [after["service_name"]]}, {"Name": "vpc-id", "Values": [after["vpc_id"]]}]
        found = [e for e in ctx.client("ec2", item.region).describe_vpc_endpoints(Filters=filters)["VpcEndpoints"] if e["State"].lower() != "deleted"]
        if len(found) != 1:
            return f"{len(found)} endpoints found"
        kind = found[0]["VpcEndpointType"]
        return "" if kind.lower() == after["vpc_endpoint_type"].lower() else f"type {kind}, planned {after['vpc_endpoint_type']}"

    return f"{item.region}: endpoint {after['service_name']} ({after['vpc_endpoint_type']})", check


def _service_setting(item: Planned, ctx: _Context) -> tuple[str, Callable[[], str]]:
    after = item.after

    def check() -> str:
        found = ctx.client("ssm", item.region).get_service_setting(SettingId=after["setting_id"])["ServiceSetting"]
        return "" if found["SettingValue"] == after["setting_value"] else f"value {found['SettingValue']!r}, planned {after['setting_value']!r}"

    return f"{item.region}: service setting {after['setting_id'].rsplit('/', 1)[-1]} = {after['setting_value']}", check


#: How each resource type a module creates is read back.
READ_BACK = {
    "aws_iam_role": _role,
    "aws_iam_instance_profile": _instance_profile,
    "aws_iam_policy": _policy,
    "aws_iam_role_policy_attachment": _attachment,
    "aws_vpc_endpoint": _endpoint,
    "aws_ssm_service_setting": _service_setting,
}


def check_applied(plan: dict[str, Any], client: ClientFactory, partition: str, account: str, home_region: str) -> list[tuple[str, str]]:
    """Compare each planned resource with the emulator's answer; ``(check, problem or "")`` pairs.

    A resource type with no read-back is itself a failure, so a new resource cannot slip by.
    """
    resources = planned_resources(plan)
    ctx = _Context(client, partition, account, {item.address: item for item in resources}, home_region)
    results: list[tuple[str, str]] = []
    for item in resources:
        reader = READ_BACK.get(item.type)
        if reader is None:
            results.append((f"{item.address}: no read-back check for {item.type}", "not checked"))
            continue
        label, check = reader(item, ctx)
        try:
            results.append((label, check()))
        except Exception as error:  # a missing resource: botocore's ClientError, named by its code
            results.append((label, f"{type(error).__name__}: {error}"))
    for region in sorted({item.region for item in resources if item.type == "aws_vpc_endpoint"}):
        planned = sorted(i.after["service_name"] for i in resources if i.type == "aws_vpc_endpoint" and i.region == region)
        found = sorted(e["ServiceName"] for e in client("ec2", region).describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted")
        results.append((f"{region}: exactly the planned endpoints", "" if found == planned else f"found {found}, planned {planned}"))
    return results


def role_policy_documents(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """Every identity policy document of a role, read from the API: attached and inline."""
    documents = [_document(iam, p["PolicyArn"]) for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]]
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        documents.append(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
    return documents


SETTING_IDS = ("/ssm/managed-instance/default-ec2-instance-management-role",)


def inventory(client: ClientFactory, regions: tuple[str, ...]) -> dict[str, list[str]]:
    """What the emulator holds of every kind a module, or its test network, creates."""
    iam = client("iam", regions[0])
    found: dict[str, list[str]] = {
        "roles": sorted(r["Arn"] for r in iam.list_roles()["Roles"]),
        "policies": sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "instance profiles": sorted(p["Arn"] for p in iam.list_instance_profiles()["InstanceProfiles"]),
        "attachments": sorted(
            f"{r['RoleName']}:{p['PolicyArn']}"
            for r in iam.list_roles()["Roles"]
            for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]
        ),
    }
    for region in regions:
        ec2 = client("ec2", region)
        ssm = client("ssm", region)
        found[f"{region} VPCs"] = sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"])
        found[f"{region} subnets"] = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])
        found[f"{region} security groups"] = sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"])
        found[f"{region} route tables"] = sorted(t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"])
        found[f"{region} VPC endpoints"] = sorted(
            e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() != "deleted"
        )
        found[f"{region} customised service settings"] = [
            s for s in SETTING_IDS if ssm.get_service_setting(SettingId=s)["ServiceSetting"]["Status"] != "Default"
        ]
    return found


def leftovers(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """What ``after`` holds that ``before`` did not, one line per kind."""
    lines = []
    for kind, items in after.items():
        extra = sorted(set(items) - set(before.get(kind, [])))
        if extra:
            lines.append(f"{kind}: {', '.join(extra)}")
    return lines
