"""Stage 3 of the pipeline: the domain model becomes a Terraform module document.

Only layout decisions live here (resource names, which file a block goes to, references);
every value comes from :class:`~ssm_profile.grants.Grants`.
"""

from __future__ import annotations

from .document import Block, Document, Expr, TypeConstraint, nested
from .grants import CustomPolicy, Grants, Statement

MIN_TERRAFORM = ">= 1.5.0"
MIN_AWS_PROVIDER = ">= 5.0"

AWS_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html"


def module_document(grants: Grants) -> Document:
    """The Terraform module that creates and attaches everything ``grants`` describes."""
    role_name: Expr | str = Expr("aws_iam_role.this.name") if grants.role.create else grants.role.name
    blocks: list[Block] = [
        Block(
            "locals",
            body={
                "partition": grants.partition.id,
                "spec_tags": dict(sorted(grants.tags.items())),
                "tags": Expr("merge(local.spec_tags, var.tags)"),
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
        blocks += _role_blocks(grants)
    if grants.instance_profile is not None:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_instance_profile", "this"),
                {
                    "name": grants.instance_profile.name,
                    "path": grants.instance_profile.path,
                    "role": role_name,
                    "tags": Expr("local.tags"),
                },
                comment=("The instance profile you name when launching EC2 instances.",),
            )
        )
    for policy in grants.managed_policies:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy_attachment", policy.key),
                {"role": role_name, "policy_arn": policy.arn},
                comment=(f"{policy.name}: {policy.why}",),
            )
        )
    for policy in grants.custom_policies:
        blocks += _custom_policy_blocks(policy, role_name, len(grants.custom_policies), grants.role.path)
    blocks = _guard_first_resource(blocks, grants)
    blocks += _variables()
    blocks += _outputs(grants)
    blocks.append(_versions())
    return Document(tuple(blocks))


def _partition_guard(grants: Grants) -> Block:
    return Block(
        "lifecycle",
        body={
            "precondition": nested(
                Block(
                    "precondition",
                    body={
                        "condition": Expr("data.aws_partition.current.partition == local.partition"),
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


def _role_blocks(grants: Grants) -> list[Block]:
    role = grants.role
    trust = Block(
        "data",
        ("aws_iam_policy_document", "assume_role"),
        {
            "statement": nested(
                Block(
                    "statement",
                    body={
                        "sid": "EC2AssumeRole",
                        "effect": "Allow",
                        "actions": ["sts:AssumeRole"],
                        "principals": nested(
                            Block("principals", body={"type": "Service", "identifiers": [role.trusted_service]})
                        ),
                    },
                )
            )
        },
        comment=("Trust policy: only the EC2 service may assume the role.", f"See {AWS_DOC}"),
    )
    body: dict[str, object] = {
        "name": role.name,
        "path": role.path,
        "description": role.description,
        "assume_role_policy": Expr("data.aws_iam_policy_document.assume_role.json"),
        "max_session_duration": role.max_session_duration,
    }
    if role.permissions_boundary:
        body["permissions_boundary"] = role.permissions_boundary
    body["tags"] = Expr("local.tags")
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
            "resources": list(statement.resources),
        },
        comment=(statement.why,) if statement.why else (),
    )


def _custom_policy_blocks(policy: CustomPolicy, role_name: Expr | str, count: int, path: str) -> list[Block]:
    part = f" (part {policy.key.rsplit('_', 1)[-1] if '_' in policy.key else 1} of {count})" if count > 1 else ""
    document = Block(
        "data",
        ("aws_iam_policy_document", policy.key),
        {"statement": nested(*(_statement_block(s) for s in policy.statements))},
        comment=(f"Custom S3 policy {policy.name}{part}: {policy.size} of IAM's 6,144 characters.",),
    )
    resource = Block(
        "resource",
        ("aws_iam_policy", policy.key),
        {
            "name": policy.name,
            "path": path,
            "description": policy.description,
            "policy": Expr(f"data.aws_iam_policy_document.{policy.key}.json"),
            "tags": Expr("local.tags"),
        },
    )
    attachment = Block(
        "resource",
        ("aws_iam_role_policy_attachment", policy.key),
        {"role": role_name, "policy_arn": Expr(f"aws_iam_policy.{policy.key}.arn")},
    )
    return [document, resource, attachment]


def _variables() -> list[Block]:
    return [
        Block(
            "variable",
            ("tags",),
            {
                "description": "Tags added to every resource this module creates, merged over the spec's role.tags.",
                "type": TypeConstraint("map(string)"),
                "default": {},
            },
            file="variables",
        )
    ]


def _output(name: str, description: str, value: object) -> Block:
    return Block("output", (name,), {"description": description, "value": value}, file="outputs")


def _outputs(grants: Grants) -> list[Block]:
    role_name = Expr("aws_iam_role.this.name") if grants.role.create else grants.role.name
    outputs = [_output("role_name", "Name of the IAM role the instances use.", role_name)]
    if grants.role.create:
        outputs.append(_output("role_arn", "ARN of the IAM role the instances use.", Expr("aws_iam_role.this.arn")))
    if grants.instance_profile is not None:
        outputs.append(
            _output(
                "instance_profile_name",
                "Name of the instance profile to launch EC2 instances with.",
                Expr("aws_iam_instance_profile.this.name"),
            )
        )
        outputs.append(
            _output(
                "instance_profile_arn", "ARN of the instance profile.", Expr("aws_iam_instance_profile.this.arn")
            )
        )
    outputs.append(
        _output(
            "s3_policy_arns",
            "ARNs of the custom S3 policies, in order (empty when the spec grants no S3 access).",
            [Expr(f"aws_iam_policy.{p.key}.arn") for p in grants.custom_policies],
        )
    )
    outputs.append(
        _output(
            "policy_arns",
            "ARNs of every managed policy this module attaches to the role, AWS managed and custom.",
            [p.arn for p in grants.managed_policies] + [Expr(f"aws_iam_policy.{p.key}.arn") for p in grants.custom_policies],
        )
    )
    return outputs


def _versions() -> Block:
    return Block(
        "terraform",
        body={
            "required_version": MIN_TERRAFORM,
            "required_providers": nested(
                Block(
                    "required_providers",
                    body={"aws": {"source": "hashicorp/aws", "version": MIN_AWS_PROVIDER}},
                )
            ),
        },
        file="versions",
    )
