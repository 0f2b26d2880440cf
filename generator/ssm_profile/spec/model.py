"""The spec format, declared once: msgspec structs with their types, lengths and patterns.

:mod:`ssm_profile.spec.shape` checks plain data against these structs' type information, and
:func:`json_schema` exports them as the JSON Schema (``ssm-profile schema``). What a struct
cannot say is checked by :mod:`ssm_profile.spec.rules`.
"""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

SPEC_VERSION = 1

# Patterns are written for JSON Schema (ECMA-262, where `$` is the very end and `\w` is ASCII)
# and matched in full by spec_shape, so they never use `\w`, `\d` or `\s` (Unicode in Python).
# IAM's documented character sets: role, policy and instance profile names are ASCII
# [\w+=,.@-] in IAM's (ASCII) regex dialect —
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
IAM_NAME = r"^[A-Za-z0-9+=,.@_-]+$"
IAM_NAME_OR_EMPTY = r"^[A-Za-z0-9+=,.@_-]*$"
# IAM's path pattern is (\u002F)|(\u002F[\u0021-\u007E]+\u002F): "/" or printable ASCII between
# slashes. Stricter here, for two reasons: a folder may not be empty ("//" and "/a//b/" are
# typos of a joined path, and "//" is outside IAM's pattern anyway), and no "*", because
# role.path is also the path of the custom policies, where CreatePolicy forbids an asterisk —
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
IAM_PATH = r"^/([\x21-\x29\x2B-\x2E\x30-\x7E]+/)*$"
IAM_DESCRIPTION = r"^[\t\n\r\x20-\x7E\xA1-\xFF]*$"
REGION_CODE = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
# The prefix ends up in a granted ARN (arn:...:s3:::bucket/prefix/*), where "*" and "?" would be
# wildcards; the rest are the S3 User Guide's "safe characters" for object keys —
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
S3_KEY_PREFIX = r"^[A-Za-z0-9!_.'()/-]*$"
# CreateLogGroup: [\.\-_/#A-Za-z0-9]+ —
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
LOG_GROUP_NAME = r"^[A-Za-z0-9_./#-]*$"
BUCKET_SUFFIX = r"^[a-z0-9]+$"
BUCKET_SUFFIX_OR_EMPTY = r"^[a-z0-9]*$"

#: What each pattern allows, in words, for spec_shape's messages.
PATTERN_HELP = {
    IAM_NAME: "ASCII letters, digits and + = , . @ _ -",
    IAM_NAME_OR_EMPTY: "ASCII letters, digits and + = , . @ _ -",
    IAM_PATH: "a path that starts and ends with /, e.g. /ssm/ or /team/ssm/, of non-empty folders of printable ASCII but *",
    IAM_DESCRIPTION: "printable ASCII and Latin-1 characters",
    REGION_CODE: "a Region code such as us-east-2",
    S3_KEY_PREFIX: "an S3 key prefix of ASCII letters, digits and ! _ . ' ( ) / - (no wildcards)",
    LOG_GROUP_NAME: "a log group name of ASCII letters, digits and _ . / # -",
    BUCKET_SUFFIX: "lower-case ASCII letters and digits, at least one",
    BUCKET_SUFFIX_OR_EMPTY: "lower-case ASCII letters and digits",
}

IamName64 = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=IAM_NAME, description="IAM role name")
]
IamName128 = Annotated[str, Meta(max_length=128, pattern=IAM_NAME_OR_EMPTY)]
RegionCode = Annotated[str, Meta(min_length=1, description="AWS Region code, e.g. us-east-2")]


# Subclasses carry `type: ignore[misc]`: mypy reads msgspec's dataclass_transform keywords per class
# and calls them non-frozen, but msgspec passes a Struct's configuration (frozen included) on to
# its subclasses (https://jcristharif.com/msgspec/structs.html#struct-configuration).
class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Common settings: unknown keys are errors, every field is keyword-only."""


class RoleSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The IAM role that EC2 instances assume."""

    name: IamName64 = "SSMInstanceProfile"
    create: Annotated[bool, Meta(description="false: attach everything to an existing role called `name`")] = True
    description: Annotated[str, Meta(max_length=1000, pattern=IAM_DESCRIPTION)] = ""
    tags: Annotated[dict[str, str], Meta(max_length=50, description="Tags on every created resource")] = field(
        default_factory=dict
    )
    path: Annotated[str, Meta(min_length=1, max_length=512, pattern=IAM_PATH)] = "/"
    permissions_boundary: Annotated[str, Meta(description="ARN of a managed policy used as permissions boundary")] = ""
    max_session_duration: Annotated[int, Meta(ge=3600, le=43200, description="seconds")] = 3600


class InstanceProfileSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The instance profile that carries the role to EC2."""

    create: bool = True
    name: Annotated[IamName128, Meta(description="default: role.name")] = ""


class ManagedPoliciesSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """AWS managed policies attached to the role."""

    instance_core: Annotated[bool, Meta(description="AmazonSSMManagedInstanceCore")] = True
    directory_service: Annotated[bool, Meta(description="AmazonSSMDirectoryServiceAccess")] = False
    cloudwatch_agent: Annotated[bool, Meta(description="CloudWatchAgentServerPolicy")] = False


class BucketSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """One of the user's own S3 buckets that instances read from and write to."""

    # 255: legacy us-east-1 names (see bucket_name_problem); today's rules allow 63.
    name: Annotated[str, Meta(min_length=3, max_length=255)]
    cross_account: Annotated[bool, Meta(description="adds s3:PutObjectAcl")] = False
    encrypted: Annotated[bool, Meta(description="adds s3:GetEncryptionConfiguration on the bucket")] = False
    kms_key_arn: Annotated[
        str | dict[str, str],
        Meta(
            description="the bucket's SSE-KMS customer managed key: kms:GenerateDataKey and kms:Decrypt on exactly this "
            "key; a table keyed by Region for instances that write through another key in each Region"
        ),
    ] = ""


class SuffixSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """Suffixes of the Patch Manager buckets in one Region, as AWS documents them."""

    patch_manager: Annotated[str, Meta(pattern=BUCKET_SUFFIX)]
    patch_manager_macos: Annotated[str, Meta(pattern=BUCKET_SUFFIX_OR_EMPTY)] = ""
    patch_baseline_snapshot: Annotated[str, Meta(pattern=BUCKET_SUFFIX_OR_EMPTY)] = ""


AgentBucketSet = Literal["seed", "current", "all"]


class S3Spec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The custom S3 policy: AWS-owned buckets (statement 1) and the user's own (statement 2)."""

    policy_name: Annotated[IamName128, Meta(min_length=1)] = "SSMInstanceProfileS3Policy"
    # None: ssm-profile's own description. A policy's description cannot change without replacing
    # the policy (CreatePolicy takes it; no API updates it), so adopting an existing policy needs
    # its description here, "" included —
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html
    policy_description: (
        Annotated[
            str,
            Meta(max_length=1000, pattern=IAM_DESCRIPTION, description="default: ssm-profile's own; set to adopt an existing policy"),
        ]
        | None
    ) = None
    vpc_endpoint: Annotated[
        bool, Meta(description="statement 1: AWS-owned buckets SSM Agent needs, in every Region")
    ] = False
    agent_buckets: AgentBucketSet = "all"
    agent_bucket_suffixes: Annotated[
        dict[str, SuffixSpec], Meta(description="Region -> Patch Manager bucket suffixes, for Regions the catalog lacks")
    ] = field(default_factory=dict)
    buckets: list[BucketSpec] = field(default_factory=list)


class DefaultHostManagementSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """AWS's Default Host Management Configuration: Systems Manager manages every EC2 instance of a Region."""

    enabled: bool = False
    role_name: IamName64 = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
    custom_policies: Annotated[
        bool,
        Meta(
            description="attach the spec's custom policies (S3, Session Manager) to the Default Host Management role "
            "too: instances it manages have no instance profile"
        ),
    ] = True


class HybridSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The service role for hybrid and multicloud activations."""

    enabled: bool = False
    role_name: IamName64 = "SSMServiceRole"


class SessionManagerSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """Extra instance-profile permissions Session Manager needs."""

    enabled: bool = False
    policy_name: Annotated[IamName128, Meta(min_length=1)] = "SSMSessionManagerPolicy"
    kms_key_arn: Annotated[
        str | dict[str, str],
        Meta(
            description="session encryption: kms:Decrypt on this key; a table keyed by Region for a key per Region, "
            "or a multi-Region key (key/mrk-...) granted on its replica in every Region"
        ),
    ] = ""
    s3_log_bucket: Annotated[str, Meta(description="session logs to this S3 bucket")] = ""
    s3_log_prefix: Annotated[
        str, Meta(max_length=512, pattern=S3_KEY_PREFIX, description="a folder: sessions and sessions/ both grant bucket/sessions/*")
    ] = ""
    s3_log_encrypted: Annotated[
        bool,
        Meta(description="kept for older specs: s3:GetEncryptionConfiguration on the log bucket is granted whenever s3_log_bucket is set"),
    ] = False
    s3_log_kms_key_arn: Annotated[
        str, Meta(description="the log bucket's SSE-KMS key: kms:GenerateDataKey and kms:Decrypt on exactly this key")
    ] = ""
    s3_log_cross_account: bool = False
    cloudwatch_log_group: Annotated[str, Meta(max_length=512, pattern=LOG_GROUP_NAME)] = ""


VpcEndpointService = Literal["ssm", "ssmmessages", "ec2messages", "s3", "kms", "logs"]


class VpcEndpointsSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """AWS's "create VPC endpoints" step, per Region."""

    enabled: bool = False
    # None: what the spec needs (grants.needed_endpoint_services); a list is taken as given.
    services: (
        Annotated[
            list[VpcEndpointService],
            Meta(
                min_length=1,
                description="default: ssm, ssmmessages, ec2messages and s3, plus kms with session encryption "
                "and logs with a CloudWatch Logs group",
            ),
        ]
        | None
    ) = None


class LimitsSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """IAM quotas of the account, where they were raised."""

    managed_policies_per_role: Annotated[int, Meta(ge=1, le=20)] = 10


#: Spec fields that ``[module] variables`` can make module inputs: each is written into
#: resource arguments only (or into split policy names, as ``"${var.x}-2"``), so an input can
#: stand for it. Fields that decide what is granted or created cannot be inputs.
MODULE_VARIABLE_FIELDS = (
    "role.name",
    "role.path",
    "role.description",
    "role.permissions_boundary",
    "role.max_session_duration",
    "instance_profile.name",
    "s3.policy_name",
    "session_manager.policy_name",
    "default_host_management.role_name",
    "hybrid.role_name",
)


class ModuleSpec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The generated module's interface: spec fields it takes as input variables."""

    variables: Annotated[
        list[str], Meta(description="spec fields (e.g. role.name) that become module variables, defaulting to the spec's value")
    ] = field(default_factory=list)


class Spec(_Section):  # type: ignore[misc]  # msgspec: frozen is inherited
    """A whole spec file, format version 1."""

    version: Literal[1]
    regions: Annotated[list[RegionCode], Meta(min_length=1)]
    partition: str = ""
    role: RoleSpec = field(default_factory=RoleSpec)
    instance_profile: InstanceProfileSpec = field(default_factory=InstanceProfileSpec)
    managed_policies: ManagedPoliciesSpec = field(default_factory=ManagedPoliciesSpec)
    s3: S3Spec = field(default_factory=S3Spec)
    default_host_management: DefaultHostManagementSpec = field(default_factory=DefaultHostManagementSpec)
    hybrid: HybridSpec = field(default_factory=HybridSpec)
    session_manager: SessionManagerSpec = field(default_factory=SessionManagerSpec)
    vpc_endpoints: VpcEndpointsSpec = field(default_factory=VpcEndpointsSpec)
    limits: LimitsSpec = field(default_factory=LimitsSpec)
    module: ModuleSpec = field(default_factory=ModuleSpec)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format."""
    schema = msgspec.json.schema(Spec)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ssm-profile spec, version 1"
    return schema
