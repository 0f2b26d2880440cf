"""Stage 3 of the pipeline: the domain model becomes a Terraform module document.

Only layout decisions live here (resource names, which file a block goes to, references,
which provider configuration a regional resource uses); every value comes from
:class:`~ssm_profile.grants.build.Grants`.
"""

from __future__ import annotations

from ..grants.build import ACCOUNT, Condition, CustomPolicy, Grants, RegionalSetup, ServiceRole, Statement
from .document import Bare, Block, Document, Expr, Op, Template, call, local, nested, ref, var
from .own_variables import ACCOUNT_ID_VARIABLE as ACCOUNT_ID_VARIABLE
from .own_variables import NETWORK_VARIABLE as NETWORK_VARIABLE
from .own_variables import module_variables
from .spec_variables import follow_inputs, input_variables

MIN_TERRAFORM = ">= 1.5.0"
MIN_AWS_PROVIDER = ">= 5.0"

AWS_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html"
ENDPOINTS_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html"



def provider_alias(region: str) -> str:
    """The provider configuration alias of a Region: ``us-east-2`` -> ``us_east_2``."""
    return region.replace("-", "_")


def arn_value(text: str) -> str | Template:
    """A literal, or a template naming ``var.account_id`` where the domain model says ACCOUNT."""
    if ACCOUNT in text:
        return Template(_account_parts(text))
    return text


def _account_parts(text: str) -> tuple[str | Expr, ...]:
    """Template parts of ``text``: ``var.account_id`` where the domain model says ACCOUNT."""
    first, *rest = text.split(ACCOUNT)
    parts = [first, *(part for piece in rest for part in (var(ACCOUNT_ID_VARIABLE), piece))]
    return tuple(part for part in parts if part != "")


def module_document(grants: Grants) -> Document:
    """The Terraform module that creates and attaches everything ``grants`` describes."""
    role_name: Expr | str = ref("aws_iam_role.this").attr("name") if grants.role.create else grants.role.name
    blocks: list[Block] = [
        Block(
            "locals",
            body={
                "partition": grants.partition.id,
                "spec_tags": dict(sorted(grants.tags.items())),
                "tags": call("merge", local("spec_tags"), var("tags")),
            },
            comment=(f"Generated for partition {grants.partition.id}, Regions: {', '.join(grants.regions)}.",),
        ),
        Block(
            "data",
            ("aws_partition", "current"),
            comment=("Guards against using this module with a provider of another partition.",),
        ),
    ]
    if grants.role.create:
        blocks += _instance_role_blocks(grants)
    if grants.instance_profile is not None:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_instance_profile", "this"),
                {
                    "name": grants.instance_profile.name,
                    "path": grants.instance_profile.path,
                    "role": role_name,
                    "tags": local("tags"),
                },
                comment=("The instance profile you name when launching EC2 instances.",),
            )
        )
    for managed in grants.managed_policies:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy_attachment", managed.key),
                {"role": role_name, "policy_arn": managed.arn},
                comment=(f"{managed.name}: {managed.why}",),
            )
        )
    s3_count = len(grants.s3_policies)
    for index, policy in enumerate(grants.custom_policies):
        part = f" (part {index + 1} of {s3_count})" if s3_count > 1 and policy.purpose == "s3" else ""
        blocks += _custom_policy_blocks(policy, role_name, part, grants.role.path)
    for role in grants.service_roles:
        blocks += _service_role_blocks(role, grants)
    for setup in grants.regional:
        blocks += _regional_blocks(setup)
    blocks = _guard_first_resource(blocks, grants)
    blocks += module_variables(grants)
    blocks += input_variables(grants)
    blocks += _outputs(grants)
    blocks.append(_versions(grants))
    return follow_inputs(Document(tuple(blocks)), grants)


def _partition_guard(grants: Grants) -> Block:
    return Block(
        "lifecycle",
        body={
            "precondition": nested(
                Block(
                    "precondition",
                    body={
                        "condition": Op("==", ref("data.aws_partition.current").attr("partition"), local("partition")),
                        "error_message": (
                            f"This module grants ARNs of partition {grants.partition.id}; "
                            "configure the aws provider for a Region of that partition."
                        ),
                    },
                )
            )
        },
    )


def _guard_first_resource(blocks: list[Block], grants: Grants) -> list[Block]:
    """Put the partition precondition on the module's first resource: once is enough to stop a plan."""
    for index, block in enumerate(blocks):
        if block.kind == "resource":
            guarded = Block(
                block.kind,
                block.labels,
                {**block.body, "lifecycle": nested(_partition_guard(grants))},
                block.comment,
                block.file,
            )
            return [*blocks[:index], guarded, *blocks[index + 1 :]]
    return blocks


def _trust_document(key: str, service: str, conditions: tuple[Condition, ...], comment: tuple[str, ...]) -> Block:
    # No statement ID: the trust policies the IAM console writes have none, and the provider
    # compares Sids (awspolicyequivalence), so a Sid here would update every adopted role's trust.
    statement: dict[str, object] = {
        "effect": "Allow",
        "actions": ["sts:AssumeRole"],
        "principals": nested(Block("principals", body={"type": "Service", "identifiers": [service]})),
    }
    if conditions:
        statement["condition"] = nested(
            *(
                Block("condition", body={"test": c.test, "variable": c.variable, "values": [arn_value(v) for v in c.values]})
                for c in conditions
            )
        )
    return Block("data", ("aws_iam_policy_document", key), {"statement": nested(Block("statement", body=statement))}, comment=comment)


def _instance_role_blocks(grants: Grants) -> list[Block]:
    role = grants.role
    trust = _trust_document(
        "assume_role",
        role.trusted_service,
        (),
        ("Trust policy: only the EC2 service may assume the role.", f"See {AWS_DOC}"),
    )
    body: dict[str, object] = {
        "name": role.name,
        "path": role.path,
        "description": role.description,
        "assume_role_policy": ref("data.aws_iam_policy_document.assume_role").attr("json"),
        "max_session_duration": role.max_session_duration,
    }
    if role.permissions_boundary:
        body["permissions_boundary"] = role.permissions_boundary
    body["tags"] = local("tags")
    resource = Block(
        "resource",
        ("aws_iam_role", "this"),
        body,
        comment=("The role EC2 instances assume to talk to Systems Manager.",),
    )
    return [trust, resource]


def _statement_block(statement: Statement) -> Block:
    return Block(
        "statement",
        body={
            "sid": statement.sid,
            "effect": "Allow",
            "actions": list(statement.actions),
            "resources": [arn_value(r) for r in statement.resources],
        },
        comment=(statement.why,) if statement.why else (),
    )


def _custom_policy_blocks(policy: CustomPolicy, role_name: Expr | str, part: str, path: str) -> list[Block]:
    document = Block(
        "data",
        ("aws_iam_policy_document", policy.key),
        {"statement": nested(*(_statement_block(s) for s in policy.statements))},
        comment=(f"Custom policy {policy.name}{part}: {policy.size} of IAM's 6,144 characters.",),
    )
    resource = Block(
        "resource",
        ("aws_iam_policy", policy.key),
        {
            "name": policy.name,
            "path": path,
            "description": policy.description,
            "policy": ref(f"data.aws_iam_policy_document.{policy.key}").attr("json"),
            "tags": local("tags"),
        },
    )
    attachment = Block(
        "resource",
        ("aws_iam_role_policy_attachment", policy.key),
        {"role": role_name, "policy_arn": ref(f"aws_iam_policy.{policy.key}").attr("arn")},
    )
    return [document, resource, attachment]


def _service_role_blocks(role: ServiceRole, grants: Grants) -> list[Block]:
    trust = _trust_document(
        f"{role.key}_trust",
        role.trusted_service,
        role.conditions,
        (f"Trust policy of the {role.name} role: only Systems Manager may assume it.", f"See {role.doc_url}"),
    )
    resource = Block(
        "resource",
        ("aws_iam_role", role.key),
        {
            "name": role.name,
            "path": role.path,
            "description": role.why[0].upper() + role.why[1:] + ".",
            "assume_role_policy": ref(f"data.aws_iam_policy_document.{role.key}_trust").attr("json"),
            "tags": local("tags"),
        },
        comment=(role.why[0].upper() + role.why[1:] + ".",),
    )
    blocks = [trust, resource]
    name = ref(f"aws_iam_role.{role.key}").attr("name")
    for policy in role.managed_policies:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy_attachment", role.managed_attachment_key(policy)),
                {"role": name, "policy_arn": policy.arn},
                comment=(f"{policy.name}: {policy.why}",),
            )
        )
    for key in role.custom_policy_keys:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy_attachment", f"{role.key}_{key}"),
                {"role": name, "policy_arn": ref(f"aws_iam_policy.{key}").attr("arn")},
            )
        )
    return blocks


def _regional_blocks(setup: RegionalSetup) -> list[Block]:
    alias = provider_alias(setup.region)
    provider = Bare(f"aws.{alias}")
    network = var(NETWORK_VARIABLE).index(setup.region)
    blocks = []
    if setup.default_host_management_role:
        setting = f":ssm:{setup.region}:{ACCOUNT}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
        blocks.append(
            Block(
                "resource",
                ("aws_ssm_service_setting", f"default_host_management_{alias}"),
                {
                    "provider": provider,
                    "setting_id": Template(("arn:", local("partition"), *_account_parts(setting))),
                    # Naming the role resource orders creation: the setting needs the role to exist.
                    "setting_value": Template(("service-role/", ref("aws_iam_role.default_host_management").attr("name"))),
                },
                comment=(f"Default Host Management Configuration in {setup.region}.",),
            )
        )
    for endpoint in setup.endpoints:
        body: dict[str, object] = {
            "provider": provider,
            "vpc_id": network.attr("vpc_id"),
            "service_name": endpoint.service_name,
            "vpc_endpoint_type": endpoint.kind,
        }
        if endpoint.kind == "Interface":
            body["private_dns_enabled"] = True
            body["subnet_ids"] = network.attr("subnet_ids")
            body["security_group_ids"] = network.attr("security_group_ids")
        else:
            body["route_table_ids"] = network.attr("route_table_ids")
        body["tags"] = local("tags")
        blocks.append(
            Block(
                "resource",
                ("aws_vpc_endpoint", f"{endpoint.service}_{alias}"),
                body,
                comment=(f"{endpoint.kind} endpoint for {endpoint.service} in {setup.region}.",),
            )
        )
    return blocks


def _output(name: str, description: str, value: object) -> Block:
    return Block("output", (name,), {"description": description, "value": value}, file="outputs")


def _outputs(grants: Grants) -> list[Block]:
    role_name = ref("aws_iam_role.this").attr("name") if grants.role.create else grants.role.name
    outputs = [_output("role_name", "Name of the IAM role the instances use.", role_name)]
    if grants.role.create:
        outputs.append(_output("role_arn", "ARN of the IAM role the instances use.", ref("aws_iam_role.this").attr("arn")))
    if grants.instance_profile is not None:
        profile = ref("aws_iam_instance_profile.this")
        outputs.append(_output("instance_profile_name", "Name of the instance profile to launch EC2 instances with.", profile.attr("name")))
        outputs.append(_output("instance_profile_arn", "ARN of the instance profile.", profile.attr("arn")))
    outputs.append(
        _output(
            "s3_policy_arns",
            "ARNs of the custom S3 policies, in order (empty when the spec grants no S3 access).",
            [ref(f"aws_iam_policy.{p.key}").attr("arn") for p in grants.s3_policies],
        )
    )
    outputs.append(
        _output(
            "policy_arns",
            "ARNs of every managed policy this module attaches to the role, AWS managed and custom.",
            [p.arn for p in grants.managed_policies] + [ref(f"aws_iam_policy.{p.key}").attr("arn") for p in grants.custom_policies],
        )
    )
    for role in grants.service_roles:
        service_role = ref(f"aws_iam_role.{role.key}")
        outputs.append(_output(f"{role.key}_role_name", f"Name of the {role.name} role.", service_role.attr("name")))
        outputs.append(_output(f"{role.key}_role_arn", f"ARN of the {role.name} role.", service_role.attr("arn")))
    endpoints = {
        s.region: {e.service: ref(f"aws_vpc_endpoint.{e.service}_{provider_alias(s.region)}").attr("id") for e in s.endpoints}
        for s in grants.regional
        if s.endpoints
    }
    if endpoints:
        outputs.append(_output("vpc_endpoint_ids", "IDs of the VPC endpoints, by Region and service.", endpoints))
    return outputs


def _versions(grants: Grants) -> Block:
    aws: dict[str, object] = {"source": "hashicorp/aws", "version": MIN_AWS_PROVIDER}
    aliases = [Bare(f"aws.{provider_alias(s.region)}") for s in grants.regional if not s.is_empty]
    if aliases:
        aws["configuration_aliases"] = aliases
    return Block(
        "terraform",
        body={
            "required_version": MIN_TERRAFORM,
            "required_providers": nested(Block("required_providers", body={"aws": aws})),
        },
        file="versions",
    )
