"""Roles assumed by Systems Manager rather than by EC2 instances: the Default Host Management
role and the hybrid activations' service role, each with its trust, policies and documentation.
Pure: no files, no environment, no clock.
"""

from __future__ import annotations

import msgspec

from ..aws.iam_policy import ACCOUNT, CustomPolicy, ManagedPolicy
from ..spec.load import ValidatedSpec

DEFAULT_HOST_MANAGEMENT_POLICY = "AmazonSSMManagedEC2InstanceDefaultPolicy"
DHMC_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-default-host-management-configuration.html"
HYBRID_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html"

#: AWS managed policies the spec can attach, keyed by their spec field.
AWS_MANAGED_POLICIES = {
    "instance_core": (
        "AmazonSSMManagedInstanceCore",
        "Core Systems Manager permissions every managed instance needs (required by AWS).",
    ),
    "directory_service": (
        "AmazonSSMDirectoryServiceAccess",
        "Lets SSM Agent join Windows instances to an AWS Directory Service domain.",
    ),
    "cloudwatch_agent": (
        "CloudWatchAgentServerPolicy",
        "Lets the CloudWatch agent publish metrics, logs and EventBridge events.",
    ),
}


class Condition(msgspec.Struct, frozen=True):
    """One condition of a trust policy statement."""

    test: str
    variable: str
    values: tuple[str, ...]


class ServiceRole(msgspec.Struct, frozen=True):
    """A role assumed by an AWS service rather than by EC2 instances; ``doc_url`` is AWS's page on it."""

    key: str
    name: str
    path: str
    trusted_service: str
    conditions: tuple[Condition, ...]
    managed_policies: tuple[ManagedPolicy, ...]
    custom_policy_keys: tuple[str, ...]
    why: str
    doc_url: str

    @property
    def attachment_count(self) -> int:
        """Managed policies attached to this role (AWS managed and custom), what IAM's quota counts."""
        return len(self.managed_policies) + len(self.custom_policy_keys)

    def managed_attachment_key(self, policy: ManagedPolicy) -> str:
        """The Terraform name of the attachment of AWS managed ``policy`` to this role.

        The role's own policy (the Default Host Management policy) and a role's only attachment
        keep the role's key, so adding attachments later does not move them.
        """
        if policy.key == self.key or self.attachment_count == 1:
            return self.key
        return f"{self.key}_{policy.key}"


def aws_managed_policy(valid: ValidatedSpec, key: str) -> ManagedPolicy:
    """The AWS managed policy of spec field ``managed_policies.<key>``, in the spec's partition."""
    name, why = AWS_MANAGED_POLICIES[key]
    return ManagedPolicy(key=key, name=name, arn=f"arn:{valid.partition.id}:iam::aws:policy/{name}", why=why)


def default_host_management_role(valid: ValidatedSpec, custom: tuple[CustomPolicy, ...]) -> ServiceRole:
    """The role Systems Manager manages instances through under Default Host Management Configuration,
    with the spec's custom policies unless ``default_host_management.custom_policies = false``."""
    name = DEFAULT_HOST_MANAGEMENT_POLICY
    # Instances under Default Host Management have no instance profile: without the custom
    # policies they get neither the AWS-owned bucket grants nor Session Manager's. AWS's
    # instance profile page says the custom S3 policy can be attached to the Default Host
    # Management role (setup-instance-permissions.html, "Create a custom S3 bucket policy").
    keys = tuple(p.key for p in custom) if valid.spec.default_host_management.custom_policies else ()
    return ServiceRole(
        key="default_host_management",
        name=valid.spec.default_host_management.role_name,
        path="/service-role/",
        trusted_service=valid.partition.service_principal("ssm"),
        conditions=(),
        managed_policies=(
            ManagedPolicy(
                key="default_host_management",
                name=name,
                arn=f"arn:{valid.partition.id}:iam::aws:policy/{name}",
                why="what Systems Manager needs to manage instances with no instance profile of their own",
            ),
        ),
        custom_policy_keys=keys,
        why="Default Host Management Configuration: Systems Manager manages EC2 instances through this role",
        doc_url=DHMC_DOC,
    )


def hybrid_role(
    valid: ValidatedSpec, managed: tuple[ManagedPolicy, ...], custom: tuple[CustomPolicy, ...]
) -> ServiceRole:
    """The service role of hybrid activations: the instance role's policies, AmazonSSMManagedInstanceCore always."""
    # AWS's hybrid service role procedure attaches AmazonSSMManagedInstanceCore, whatever the
    # EC2 role takes (HYBRID_DOC): machines outside EC2 have no other source of these permissions.
    if not any(p.key == "instance_core" for p in managed):
        managed = (aws_managed_policy(valid, "instance_core"), *managed)
    return ServiceRole(
        key="hybrid",
        name=valid.spec.hybrid.role_name,
        path="/",
        trusted_service=valid.partition.service_principal("ssm"),
        # AWS's confused-deputy protection for the hybrid service role's trust policy.
        conditions=(
            Condition("StringEquals", "aws:SourceAccount", (ACCOUNT,)),
            Condition(
                "ArnLike",
                "aws:SourceArn",
                tuple(valid.partition.arn("ssm", "*", region, ACCOUNT) for region in valid.spec.regions),
            ),
        ),
        managed_policies=managed,
        custom_policy_keys=tuple(p.key for p in custom),
        why="service role for hybrid and multicloud activations: on-premises and other clouds' machines use it",
        doc_url=HYBRID_DOC,
    )


def service_roles(
    valid: ValidatedSpec, managed: tuple[ManagedPolicy, ...], custom: tuple[CustomPolicy, ...]
) -> tuple[ServiceRole, ...]:
    """The Default Host Management role and the hybrid service role, when enabled."""
    roles = []
    if valid.spec.default_host_management.enabled:
        roles.append(default_host_management_role(valid, custom))
    if valid.spec.hybrid.enabled:
        roles.append(hybrid_role(valid, managed, custom))
    return tuple(roles)
