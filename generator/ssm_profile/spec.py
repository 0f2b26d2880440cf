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

    # 255: legacy us-east-1 names (see bucket_name_problem); today's rules allow 63.
    name: Annotated[str, Meta(min_length=3, max_length=255)]
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
    kms_key_arn: Annotated[
        str | dict[str, str],
        Meta(
            description="session encryption: kms:Decrypt on this key; a table keyed by Region for a key per Region, "
            "or a multi-Region key (key/mrk-...) granted on its replica in every Region"
        ),
    ] = ""
    s3_log_bucket: Annotated[str, Meta(description="session logs to this S3 bucket")] = ""
    s3_log_prefix: Annotated[str, Meta(max_length=512, pattern=S3_KEY_PREFIX)] = ""
    s3_log_encrypted: bool = False
    s3_log_kms_key_arn: Annotated[
        str, Meta(description="the log bucket's SSE-KMS key: kms:GenerateDataKey on exactly this key")
    ] = ""
    s3_log_cross_account: bool = False
    cloudwatch_log_group: Annotated[str, Meta(max_length=512, pattern=LOG_GROUP_NAME)] = ""


VpcEndpointService = Literal["ssm", "ssmmessages", "ec2messages", "s3", "kms", "logs"]


class VpcEndpointsSpec(_Section):
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


class LimitsSpec(_Section):
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


class ModuleSpec(_Section):
    """The generated module's interface: spec fields it takes as input variables."""

    variables: Annotated[
        list[str], Meta(description="spec fields (e.g. role.name) that become module variables, defaulting to the spec's value")
    ] = field(default_factory=list)


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
    module: ModuleSpec = field(default_factory=ModuleSpec)


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
    _check_module_variables(spec)
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
    _check_session_keys(spec, partition)
    if session.s3_log_kms_key_arn:
        kms_key_region("session_manager.s3_log_kms_key_arn", session.s3_log_kms_key_arn, partition)
    if session.s3_log_bucket:
        problem = bucket_name_problem(session.s3_log_bucket)
        if problem:
            raise SpecError("session_manager.s3_log_bucket", f"{shown(session.s3_log_bucket)} {problem}")
    elif session.s3_log_prefix or session.s3_log_encrypted or session.s3_log_cross_account or session.s3_log_kms_key_arn:
        raise SpecError(
            "session_manager.s3_log_bucket",
            "is required when s3_log_prefix, s3_log_encrypted, s3_log_cross_account or s3_log_kms_key_arn is set",
        )
    if not session.enabled and (session.kms_key_arn or session.s3_log_bucket or session.cloudwatch_log_group):
        raise SpecError("session_manager.enabled", "is false, but session_manager settings are given; set enabled = true")
    services = spec.vpc_endpoints.services or []
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


def kms_key_region(where: str, arn: str, partition: Partition) -> str:
    """The Region of the KMS key ARN ``arn``; a one-line error at ``where`` when it is none of this partition."""
    match = re.fullmatch(rf"arn:{re.escape(partition.id)}:kms:([a-z0-9-]+):[0-9]{{12}}:key/[A-Za-z0-9-]+", arn)
    if match is None:
        raise SpecError(
            where,
            f"{shown(arn)} is not a KMS key ARN of partition {partition.id} "
            f"(arn:{partition.id}:kms:<region>:<account>:key/<key-id>; an alias ARN cannot be granted a KMS action)",
        )
    return match[1]


def is_multi_region_key(arn: str) -> bool:
    """Whether ``arn`` names a multi-Region key (key IDs ``mrk-...``; AWS KMS Developer Guide, multi-Region keys)."""
    return arn.rsplit("/", 1)[-1].startswith("mrk-")


def _check_session_keys(spec: Spec, partition: Partition) -> None:
    """session_manager.kms_key_arn: one key for one Region, a multi-Region key, or a table keyed by Region."""
    keys = spec.session_manager.kms_key_arn
    where = "session_manager.kms_key_arn"
    if isinstance(keys, str):
        if not keys:
            return
        kms_key_region(where, keys, partition)
        if len(spec.regions) > 1 and not is_multi_region_key(keys):
            # KMS keys are Regional and Session Manager preferences are per Region.
            raise SpecError(
                where,
                f"{shown(keys)} is a single-Region key, but the spec has {len(spec.regions)} Regions and Session Manager "
                f"encrypts with a key of each Region; give a table keyed by Region "
                f"(kms_key_arn = {{ {spec.regions[0]} = \"arn:...\" }}; Regions left out get no session encryption), "
                f"or a multi-Region key (key/mrk-...) replicated to every Region of the spec",
            )
        return
    for region, arn in keys.items():
        if region not in spec.regions:
            raise SpecError(key_path(where, region), f"{shown(region)} is not one of the spec's regions ({', '.join(spec.regions)})")
        key_region = kms_key_region(key_path(where, region), arn, partition)
        if key_region != region:
            raise SpecError(key_path(where, region), f"{shown(arn)} is a key of {key_region}; the key for {region} must be in {region}")


def _check_module_variables(spec: Spec) -> None:
    # A variable for a field whose resource the spec does not create would be an unused input.
    applies = {
        "role.description": (spec.role.create, "role.create is false"),
        "role.permissions_boundary": (spec.role.create, "role.create is false"),
        "role.max_session_duration": (spec.role.create, "role.create is false"),
        "instance_profile.name": (spec.instance_profile.create, "instance_profile.create is false"),
        "s3.policy_name": (spec.s3.vpc_endpoint or bool(spec.s3.buckets), "the spec creates no S3 policy"),
        "session_manager.policy_name": (spec.session_manager.enabled, "session_manager.enabled is false"),
        "default_host_management.role_name": (spec.default_host_management.enabled, "default_host_management.enabled is false"),
        "hybrid.role_name": (spec.hybrid.enabled, "hybrid.enabled is false"),
    }
    for index, name in enumerate(spec.module.variables):
        where = f"module.variables[{index}]"
        if name not in MODULE_VARIABLE_FIELDS:
            raise SpecError(
                where,
                f"{shown(name)} cannot be a module variable{suggest(name, list(MODULE_VARIABLE_FIELDS))}; "
                f"supported: {', '.join(MODULE_VARIABLE_FIELDS)}",
            )
        if name in spec.module.variables[:index]:
            raise SpecError(where, f"{shown(name)} is listed twice")
        applicable, reason = applies.get(name, (True, ""))
        if not applicable:
            raise SpecError(where, f"{shown(name)} has nothing to name: {reason}")


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


#: Amazon S3 User Guide, "General purpose bucket naming rules" (bucketnamingrules.html): before
#: March 1, 2018, buckets created in us-east-1 could have names of up to 255 characters with
#: upper-case letters and underscores. Such buckets still exist, so those names pass with a warning.
LEGACY_BUCKET_CHARACTERS = r"[A-Za-z0-9._-]+"


def legacy_bucket_name_warning(name: str) -> str:
    """A one-line warning when ``name`` is valid only under S3's legacy us-east-1 rules, else ""."""
    problem = current_bucket_name_problem(name)
    if not problem or _naming_problem(name, legacy=True):
        return ""
    return (
        f"{shown(name)} {problem} under today's S3 naming rules; only a bucket created in us-east-1 before "
        "March 1, 2018 (S3's legacy naming rules) can have this name"
    )


def bucket_name_problem(name: str) -> str:
    """Why no S3 bucket can be called ``name``, today or as a legacy us-east-1 bucket, or ""."""
    if not current_bucket_name_problem(name):
        return ""
    # The legacy rules allow more, so what they reject no bucket can be called (/, *, spaces, ARNs ...);
    # what only today's rules reject is accepted, with legacy_bucket_name_warning.
    return _naming_problem(name, legacy=True)


def current_bucket_name_problem(name: str) -> str:
    """Why ``name`` breaks AWS's current general purpose bucket naming rules, or an empty string."""
    return _naming_problem(name, legacy=False)


def _naming_problem(name: str, legacy: bool) -> str:
    # Amazon S3 User Guide, "General purpose bucket naming rules"; legacy: what us-east-1 allowed
    # before March 1, 2018 on top (upper case, underscores, 255 characters).
    if legacy and not 3 <= len(name) <= 255:
        return "must be 3 to 63 characters long (up to 255 only for legacy us-east-1 buckets)"
    if not legacy and not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if legacy and not re.fullmatch(LEGACY_BUCKET_CHARACTERS, name):
        return (
            "may hold only lower-case letters, digits, dots and hyphens (legacy us-east-1 buckets also upper-case "
            "letters and underscores); no /, *, spaces or ARNs"
        )
    if not legacy and not re.fullmatch(r"[a-z0-9.-]+", name):
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
        if name.lower().startswith(prefix):
            return f"must not start with {shown(prefix)} (reserved by S3)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.lower().endswith(suffix):
            return f"must not end with {shown(suffix)} (reserved by S3)"
    return ""


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(data), type(data).__name__)

