"""Stage 1 of the pipeline: a spec file becomes a validated :class:`Spec`.

:mod:`ssm_profile.spec_file` reads the file into plain data; the spec's shape is declared once,
here, as msgspec structs, which :mod:`ssm_profile.spec_shape` checks the data against (types,
lengths, full-match patterns) and which export the JSON Schema (``ssm-profile schema``). What a
struct cannot say (Regions that exist, one partition, ARNs in that partition, IAM's tag
characters) is checked by :func:`check_spec`. Every failure becomes one
:class:`~ssm_profile.errors.SpecError` whose message starts with the field path, e.g.
``regions[2]: 'us-east-9' is not a Region`` or ``role.tags["Team"]: ...``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from .errors import SpecError, key_path, shown
from .regions import Partition, partition_of_region, partitions, suggest
from .spec_file import SPEC_SUFFIXES, parse_text, read_spec_text
from .spec_shape import character_name, check_shape, field_path

__all__ = ["SPEC_SUFFIXES", "SPEC_VERSION", "Spec", "check_spec", "json_schema", "load_spec", "parse_text", "spec_from_data"]

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

_PATTERN_HELP = {
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


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Common settings: unknown keys are errors, every field is keyword-only."""


class RoleSpec(_Section):
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


class InstanceProfileSpec(_Section):
    """The instance profile that carries the role to EC2."""

    create: bool = True
    name: Annotated[IamName128, Meta(description="default: role.name")] = ""


class ManagedPoliciesSpec(_Section):
    """AWS managed policies attached to the role."""

    instance_core: Annotated[bool, Meta(description="AmazonSSMManagedInstanceCore")] = True
    directory_service: Annotated[bool, Meta(description="AmazonSSMDirectoryServiceAccess")] = False
    cloudwatch_agent: Annotated[bool, Meta(description="CloudWatchAgentServerPolicy")] = False


class BucketSpec(_Section):
    """One of the user's own S3 buckets that instances read from and write to."""

    name: Annotated[str, Meta(min_length=3, max_length=63)]
    cross_account: Annotated[bool, Meta(description="adds s3:PutObjectAcl")] = False
    encrypted: Annotated[bool, Meta(description="adds s3:GetEncryptionConfiguration on the bucket")] = False


class SuffixSpec(_Section):
    """Suffixes of the Patch Manager buckets in one Region, as AWS documents them."""

    patch_manager: Annotated[str, Meta(pattern=BUCKET_SUFFIX)]
    patch_manager_macos: Annotated[str, Meta(pattern=BUCKET_SUFFIX_OR_EMPTY)] = ""
    patch_baseline_snapshot: Annotated[str, Meta(pattern=BUCKET_SUFFIX_OR_EMPTY)] = ""


AgentBucketSet = Literal["seed", "current", "all"]


class S3Spec(_Section):
    """The custom S3 policy: AWS-owned buckets (statement 1) and the user's own (statement 2)."""

    policy_name: Annotated[IamName128, Meta(min_length=1)] = "SSMInstanceProfileS3Policy"
    vpc_endpoint: Annotated[
        bool, Meta(description="statement 1: AWS-owned buckets SSM Agent needs, in every Region")
    ] = False
    agent_buckets: AgentBucketSet = "all"
    agent_bucket_suffixes: Annotated[
        dict[str, SuffixSpec], Meta(description="Region -> Patch Manager bucket suffixes, for Regions the catalog lacks")
    ] = field(default_factory=dict)
    buckets: list[BucketSpec] = field(default_factory=list)


class DefaultHostManagementSpec(_Section):
    """AWS's Default Host Management Configuration: Systems Manager manages every EC2 instance of a Region."""

    enabled: bool = False
    role_name: IamName64 = "AWSSystemsManagerDefaultEC2InstanceManagementRole"


class HybridSpec(_Section):
    """The service role for hybrid and multicloud activations."""

    enabled: bool = False
    role_name: IamName64 = "SSMServiceRole"


class SessionManagerSpec(_Section):
    """Extra instance-profile permissions Session Manager needs."""

    enabled: bool = False
    policy_name: Annotated[IamName128, Meta(min_length=1)] = "SSMSessionManagerPolicy"
    kms_key_arn: Annotated[str, Meta(description="session encryption: kms:Decrypt on this key")] = ""
    s3_log_bucket: Annotated[str, Meta(description="session logs to this S3 bucket")] = ""
    s3_log_prefix: Annotated[str, Meta(max_length=512, pattern=S3_KEY_PREFIX)] = ""
    s3_log_encrypted: bool = False
    s3_log_cross_account: bool = False
    cloudwatch_log_group: Annotated[str, Meta(max_length=512, pattern=LOG_GROUP_NAME)] = ""


VpcEndpointService = Literal["ssm", "ssmmessages", "ec2messages", "s3"]


class VpcEndpointsSpec(_Section):
    """AWS's "create VPC endpoints" step, per Region."""

    enabled: bool = False
    services: Annotated[list[VpcEndpointService], Meta(min_length=1)] = field(
        default_factory=lambda: ["ssm", "ssmmessages", "ec2messages"]
    )


class LimitsSpec(_Section):
    """IAM quotas of the account, where they were raised."""

    managed_policies_per_role: Annotated[int, Meta(ge=1, le=20)] = 10


class Spec(_Section):
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


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format."""
    schema = msgspec.json.schema(Spec)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ssm-profile spec, version 1"
    return schema


# -- reading ------------------------------------------------------------------------------


def load_spec(path: str | Path) -> Spec:
    """Read, parse and fully validate the spec file at ``path``."""
    text, kind = read_spec_text(Path(path))
    return spec_from_data(parse_text(text, kind, str(path), lambda parts: field_path(Spec, parts)))


def spec_from_data(data: Any) -> Spec:
    """Validate plain data (as parsed from a spec file) into a :class:`Spec`."""
    if not isinstance(data, dict):
        raise SpecError("spec", f"the top level must be a table of settings, got {_kind(data)}")
    check_shape(data, Spec, _PATTERN_HELP)
    try:
        spec = msgspec.convert(data, Spec, strict=True)
    except msgspec.ValidationError as exc:  # check_shape knows every type the structs use
        raise SpecError("spec", str(exc)) from None
    check_spec(spec)
    return spec


# -- checks a struct cannot express --------------------------------------------------------


def check_spec(spec: Spec) -> Partition:
    """Check what the structs cannot express; return the spec's partition."""
    partition = _check_regions(spec)
    _check_role(spec, partition)
    _check_tags(spec.role.tags)
    for index, bucket in enumerate(spec.s3.buckets):
        problem = bucket_name_problem(bucket.name)
        if problem:
            raise SpecError(f"s3.buckets[{index}].name", f"{shown(bucket.name)} {problem}")
    seen: dict[str, int] = {}
    for index, bucket in enumerate(spec.s3.buckets):
        if bucket.name in seen:
            raise SpecError(
                f"s3.buckets[{index}].name",
                f"{shown(bucket.name)} is listed twice (also s3.buckets[{seen[bucket.name]}]); list each bucket once",
            )
        seen[bucket.name] = index
    _check_regional(spec, partition)
    for region in spec.s3.agent_bucket_suffixes:
        if region not in spec.regions:
            raise SpecError(
                key_path("s3.agent_bucket_suffixes", region),
                f"{shown(region)} is not one of the spec's regions ({', '.join(spec.regions)})",
            )
    return partition


def _check_regions(spec: Spec) -> Partition:
    known = partitions()
    if spec.partition and spec.partition not in known:
        raise SpecError("partition", f"{shown(spec.partition)} is not supported; allowed: {', '.join(known)}")
    found: Partition | None = None
    first_index = 0
    seen: set[str] = set()
    for index, region in enumerate(spec.regions):
        where = f"regions[{index}]"
        if "*" in region or "?" in region:
            raise SpecError(where, f"{shown(region)}: a wildcard is not allowed; AWS requires each Region written out")
        if region in seen:
            raise SpecError(where, f"{shown(region)} is listed twice; list each Region once")
        seen.add(region)
        partition = partition_of_region(region)
        if partition is None:
            scope = known[spec.partition].regions if spec.partition else [r for p in known.values() for r in p.regions]
            label = f"partition {spec.partition}" if spec.partition else "any supported partition"
            raise SpecError(where, f"{shown(region)} is not a Region of {label}{suggest(region, scope)}")
        if spec.partition and partition.id != spec.partition:
            raise SpecError(
                where, f"{shown(region)} belongs to partition {partition.id}, but partition is {shown(spec.partition)}"
            )
        if found is not None and partition.id != found.id:
            raise SpecError(
                where,
                f"{shown(region)} is in partition {partition.id}, but regions[{first_index}] "
                f"{shown(spec.regions[first_index])} is in {found.id}; one spec covers one partition",
            )
        if found is None:
            found, first_index = partition, index
    assert found is not None  # msgspec guarantees at least one Region
    return found


def _check_regional(spec: Spec, partition: Partition) -> None:
    session = spec.session_manager
    if session.kms_key_arn:
        pattern = rf"arn:{re.escape(partition.id)}:kms:[a-z0-9-]+:[0-9]{{12}}:key/[A-Za-z0-9-]+"
        if not re.fullmatch(pattern, session.kms_key_arn):
            raise SpecError(
                "session_manager.kms_key_arn",
                f"{shown(session.kms_key_arn)} is not a KMS key ARN of partition {partition.id} "
                f"(arn:{partition.id}:kms:<region>:<account>:key/<key-id>; an alias ARN cannot be granted kms:Decrypt)",
            )
    if session.s3_log_bucket:
        problem = bucket_name_problem(session.s3_log_bucket)
        if problem:
            raise SpecError("session_manager.s3_log_bucket", f"{session.s3_log_bucket!r} {problem}")
    elif session.s3_log_prefix or session.s3_log_encrypted or session.s3_log_cross_account:
        raise SpecError("session_manager.s3_log_bucket", "is required when s3_log_prefix, s3_log_encrypted or s3_log_cross_account is set")
    if not session.enabled and (session.kms_key_arn or session.s3_log_bucket or session.cloudwatch_log_group):
        raise SpecError("session_manager.enabled", "is false, but session_manager settings are given; set enabled = true")
    services = spec.vpc_endpoints.services
    for index, service in enumerate(services):
        if service in services[:index]:
            raise SpecError(f"vpc_endpoints.services[{index}]", f"{shown(service)} is listed twice")
    if spec.vpc_endpoints.enabled and not spec.s3.vpc_endpoint:
        raise SpecError(
            "s3.vpc_endpoint",
            "must be true when vpc_endpoints.enabled: behind VPC endpoints SSM Agent reaches AWS's own S3 buckets "
            "only if the instance profile grants s3:GetObject on them (statement 1), as AWS's VPC endpoint setup requires",
        )
    names = {"role.name": spec.role.name}
    if spec.default_host_management.enabled:
        names["default_host_management.role_name"] = spec.default_host_management.role_name
    if spec.hybrid.enabled:
        names["hybrid.role_name"] = spec.hybrid.role_name
    seen: dict[str, str] = {}
    for path, name in names.items():
        if name in seen:
            raise SpecError(path, f"{shown(name)} is also {seen[name]}; each role needs its own name")
        seen[name] = path


def _check_role(spec: Spec, partition: Partition) -> None:
    boundary = spec.role.permissions_boundary
    if boundary:
        pattern = rf"arn:{re.escape(partition.id)}:iam::(aws|[0-9]{{12}}):policy/[\x21-\x7E]+"
        if not re.fullmatch(pattern, boundary):
            raise SpecError(
                "role.permissions_boundary",
                f"{shown(boundary)} is not a managed policy ARN of partition {partition.id} "
                f"(arn:{partition.id}:iam::<account>:policy/<name>)",
            )
    if not spec.role.create:
        for name in ("description", "permissions_boundary"):
            if getattr(spec.role, name):
                raise SpecError(
                    f"role.{name}", "only applies to a role ssm-profile creates; with role.create = false leave it empty"
                )
    profile_name = spec.instance_profile.name or spec.role.name
    if not spec.instance_profile.create and spec.instance_profile.name:
        raise SpecError("instance_profile.name", "is set but instance_profile.create is false")
    if len(profile_name) > 128:
        raise SpecError("instance_profile.name", "must be at most 128 characters")


def _check_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        where = key_path("role.tags", key)
        if not 1 <= len(key) <= 128:
            raise SpecError(where, "tag keys must be 1 to 128 characters")
        if len(value) > 256:
            raise SpecError(where, "tag values must be at most 256 characters")
        if key.lower().startswith("aws:"):
            raise SpecError(where, "tag keys starting with aws: are reserved by AWS")
        for part, text in (("key", key), ("value", value)):
            bad = next((char for char in text if not _allowed_in_tag(char)), None)
            if bad is not None:
                raise SpecError(
                    where,
                    f"the tag {part} holds {character_name(bad)}, which IAM tags do not allow; "
                    "allowed: letters, digits, spaces and _ . : / = + - @",
                )


def _allowed_in_tag(char: str) -> bool:
    # IAM's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]: Unicode letters, separators (spaces) and
    # numbers, and six marks; tabs and newlines are control characters (Cc), not separators —
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html
    return char in "_.:/=+-@" or unicodedata.category(char)[0] in "LZN"


def bucket_name_problem(name: str) -> str:
    """Why ``name`` breaks AWS's general purpose bucket naming rules, or an empty string."""
    # Amazon S3 User Guide, "General purpose bucket naming rules".
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return "may hold only lower-case letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent dots"
    import ipaddress

    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"must not start with {shown(prefix)} (reserved by S3)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"must not end with {shown(suffix)} (reserved by S3)"
    return ""


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(data), type(data).__name__)

