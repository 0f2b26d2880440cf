"""Stage 1 of the pipeline: a spec file becomes a validated :class:`Spec`.

The spec's shape is declared once, as msgspec structs; msgspec checks types, lengths and
patterns and exports the JSON Schema (``ssm-profile schema``). What a struct cannot say
(Regions that exist, one partition, ARNs in that partition) is checked by
:func:`check_spec`. Every failure becomes one :class:`~ssm_profile.errors.SpecError` whose
message starts with the field path, e.g. ``regions[2]: "us-east-9" is not a Region``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from .errors import SpecError
from .regions import Partition, partition_of_region, partitions, suggest

SPEC_VERSION = 1
SPEC_SUFFIXES = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}

# IAM's documented character sets (IAM API reference, CreateRole / CreatePolicy / CreateInstanceProfile).
IAM_NAME = r"^[\w+=,.@-]+$"
IAM_PATH = r"^/([\x21-\x7E]*/)?$"
IAM_DESCRIPTION = r"^[\t\n\r\x20-\x7E\xA1-\xFF]*$"
TAG_PATTERN = re.compile(r"^[\w\s.:/=+\-@]*$")
REGION_CODE = r"^[a-z]{2}(-[a-z]+)+-\d+$"

_PATTERN_HELP = {
    IAM_NAME: "letters, digits and + = , . @ _ -",
    IAM_PATH: "a path that starts and ends with / and holds printable ASCII, e.g. /ssm/",
    IAM_DESCRIPTION: "printable ASCII and Latin-1 characters",
    REGION_CODE: "a Region code such as us-east-2",
}

IamName64 = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=IAM_NAME, description="IAM role name")
]
IamName128 = Annotated[str, Meta(max_length=128, pattern=r"^[\w+=,.@-]*$")]
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

    patch_manager: Annotated[str, Meta(pattern=r"^[a-z0-9]+$")]
    patch_manager_macos: Annotated[str, Meta(pattern=r"^[a-z0-9]*$")] = ""
    patch_baseline_snapshot: Annotated[str, Meta(pattern=r"^[a-z0-9]*$")] = ""


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
    s3_log_prefix: Annotated[str, Meta(max_length=512, pattern=r"^[A-Za-z0-9!_.*'()/-]*$")] = ""
    s3_log_encrypted: bool = False
    s3_log_kms_key_arn: Annotated[
        str, Meta(description="the log bucket's SSE-KMS key: kms:GenerateDataKey on exactly this key")
    ] = ""
    s3_log_cross_account: bool = False
    cloudwatch_log_group: Annotated[str, Meta(max_length=512, pattern=r"^[\w./#-]*$")] = ""


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


def parse_text(text: str, kind: str, source: str) -> Any:
    """Parse spec text of ``kind`` (TOML, YAML or JSON) into plain data."""
    if not text.strip():
        raise SpecError(source, "the file is empty; a spec needs at least `version = 1` and `regions`")
    try:
        if kind == "TOML":
            import tomllib

            return tomllib.loads(text)
        if kind == "YAML":
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError
        raise SpecError(source, f"not valid {kind}: {_one_line(str(exc))}") from None
    except Exception as exc:  # yaml.YAMLError has no common base with ValueError
        if type(exc).__module__.startswith("yaml"):
            raise SpecError(source, f"not valid YAML: {_one_line(str(exc))}") from None
        raise


def load_spec(path: str | Path) -> Spec:
    """Read, parse and fully validate the spec file at ``path``."""
    path = Path(path)
    kind = SPEC_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SpecError(str(path), f"unknown spec file type {path.suffix!r}; allowed: {', '.join(SPEC_SUFFIXES)}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), f"cannot read the file: {_one_line(str(exc))}") from None
    return spec_from_data(parse_text(text, kind, str(path)))


def spec_from_data(data: Any) -> Spec:
    """Validate plain data (as parsed from a spec file) into a :class:`Spec`."""
    if not isinstance(data, dict):
        raise SpecError("spec", f"the top level must be a table of settings, got {_kind(data)}")
    try:
        spec = msgspec.convert(data, Spec, strict=True)
    except msgspec.ValidationError as exc:
        raise _spec_error(str(exc)) from None
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
            raise SpecError(f"s3.buckets[{index}].name", f"{bucket.name!r} {problem}")
    seen: dict[str, int] = {}
    for index, bucket in enumerate(spec.s3.buckets):
        if bucket.name in seen:
            raise SpecError(
                f"s3.buckets[{index}].name",
                f"{bucket.name!r} is listed twice (also s3.buckets[{seen[bucket.name]}]); list each bucket once",
            )
        seen[bucket.name] = index
    _check_regional(spec, partition)
    _check_module_variables(spec)
    for region in spec.s3.agent_bucket_suffixes:
        if region not in spec.regions:
            raise SpecError(
                f"s3.agent_bucket_suffixes.{region}",
                f"{region!r} is not one of the spec's regions ({', '.join(spec.regions)})",
            )
    return partition


def _check_regions(spec: Spec) -> Partition:
    known = partitions()
    if spec.partition and spec.partition not in known:
        raise SpecError("partition", f"{spec.partition!r} is not supported; allowed: {', '.join(known)}")
    found: Partition | None = None
    first_index = 0
    seen: set[str] = set()
    for index, region in enumerate(spec.regions):
        where = f"regions[{index}]"
        if "*" in region or "?" in region:
            raise SpecError(where, f"{region!r}: a wildcard is not allowed; AWS requires each Region written out")
        if region in seen:
            raise SpecError(where, f"{region!r} is listed twice; list each Region once")
        seen.add(region)
        partition = partition_of_region(region)
        if partition is None:
            scope = known[spec.partition].regions if spec.partition else [r for p in known.values() for r in p.regions]
            label = f"partition {spec.partition}" if spec.partition else "any supported partition"
            raise SpecError(where, f"{region!r} is not a Region of {label}{suggest(region, scope)}")
        if spec.partition and partition.id != spec.partition:
            raise SpecError(
                where, f"{region!r} belongs to partition {partition.id}, but partition is {spec.partition!r}"
            )
        if found is not None and partition.id != found.id:
            raise SpecError(
                where,
                f"{region!r} is in partition {partition.id}, but regions[{first_index}] "
                f"{spec.regions[first_index]!r} is in {found.id}; one spec covers one partition",
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
            raise SpecError("session_manager.s3_log_bucket", f"{session.s3_log_bucket!r} {problem}")
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
            raise SpecError(f"vpc_endpoints.services[{index}]", f"{service!r} is listed twice")
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
            raise SpecError(path, f"{name!r} is also {seen[name]}; each role needs its own name")
        seen[name] = path


def kms_key_region(where: str, arn: str, partition: Partition) -> str:
    """The Region of the KMS key ARN ``arn``; a one-line error at ``where`` when it is none of this partition."""
    match = re.fullmatch(rf"arn:{re.escape(partition.id)}:kms:([a-z0-9-]+):\d{{12}}:key/[A-Za-z0-9-]+", arn)
    if match is None:
        raise SpecError(
            where,
            f"{arn!r} is not a KMS key ARN of partition {partition.id} "
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
                f"{keys!r} is a single-Region key, but the spec has {len(spec.regions)} Regions and Session Manager "
                f"encrypts with a key of each Region; give a table keyed by Region "
                f"(kms_key_arn = {{ {spec.regions[0]} = \"arn:...\" }}; Regions left out get no session encryption), "
                f"or a multi-Region key (key/mrk-...) replicated to every Region of the spec",
            )
        return
    for region, arn in keys.items():
        if region not in spec.regions:
            raise SpecError(f"{where}.{region}", f"{region!r} is not one of the spec's regions ({', '.join(spec.regions)})")
        key_region = kms_key_region(f"{where}.{region}", arn, partition)
        if key_region != region:
            raise SpecError(f"{where}.{region}", f"{arn!r} is a key of {key_region}; the key for {region} must be in {region}")


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
                f"{name!r} cannot be a module variable{suggest(name, list(MODULE_VARIABLE_FIELDS))}; "
                f"supported: {', '.join(MODULE_VARIABLE_FIELDS)}",
            )
        if name in spec.module.variables[:index]:
            raise SpecError(where, f"{name!r} is listed twice")
        applicable, reason = applies.get(name, (True, ""))
        if not applicable:
            raise SpecError(where, f"{name!r} has nothing to name: {reason}")


def _check_role(spec: Spec, partition: Partition) -> None:
    boundary = spec.role.permissions_boundary
    if boundary:
        pattern = rf"^arn:{re.escape(partition.id)}:iam::(aws|\d{{12}}):policy/[\x21-\x7E]+$"
        if not re.match(pattern, boundary):
            raise SpecError(
                "role.permissions_boundary",
                f"{boundary!r} is not a managed policy ARN of partition {partition.id} "
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
        where = f"role.tags.{key}" if key else "role.tags"
        if not 1 <= len(key) <= 128:
            raise SpecError(where, "tag keys must be 1 to 128 characters")
        if len(value) > 256:
            raise SpecError(where, "tag values must be at most 256 characters")
        if key.lower().startswith("aws:"):
            raise SpecError(where, "tag keys starting with aws: are reserved by AWS")
        for text in (key, value):
            if not TAG_PATTERN.match(text):
                raise SpecError(where, f"{text!r} has characters IAM tags do not allow; allowed: letters, digits, spaces and _ . : / = + - @")


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
        f"{name!r} {problem} under today's S3 naming rules; only a bucket created in us-east-1 before "
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
            return f"must not start with {prefix!r} (reserved by S3)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.lower().endswith(suffix):
            return f"must not end with {suffix!r} (reserved by S3)"
    return ""


# -- turning msgspec's messages into ours ----------------------------------------------------

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _spec_error(raw: str) -> SpecError:
    match = _AT.match(raw)
    assert match is not None
    message, path = match["msg"], (match["path"] or "").lstrip(".")
    info = _type_at(path)
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        key = unknown[1]
        allowed = sorted(f.encode_name for f in info.fields) if isinstance(info, msgspec.inspect.StructType) else []
        full = f"{path}.{key}" if path else key
        return SpecError(full, f"unknown field{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
    missing = re.match(r"Object missing required field `(.+)`", message)
    if missing:
        full = f"{path}.{missing[1]}" if path else missing[1]
        return SpecError(full, "is required")
    if message.startswith("Invalid enum value") and isinstance(info, msgspec.inspect.LiteralType):
        value = message.removeprefix("Invalid enum value ").strip()
        allowed = ", ".join(json.dumps(v) for v in info.values)
        return SpecError(path, f"{value} is not allowed; allowed: {allowed}")
    regex = re.match(r"Expected `str` matching regex '(.+)'", message)
    if regex:
        pattern = regex[1].encode().decode("unicode_escape")
        help_text = _PATTERN_HELP.get(pattern, f"the pattern {pattern}")
        return SpecError(path, f"must use only {help_text}" if pattern == IAM_NAME else f"must be {help_text}")
    union = re.match(r"Expected `(\w+(?: \| \w+)+)`, got `(\w+)`", message)
    if union:  # session_manager.kms_key_arn: a string or a table
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in union[1].split(" | "))
        return SpecError(path, f"expected {words}, got {_TYPE_WORDS.get(union[2], union[2])}")
    expected = re.match(r"Expected `(\w+)`(?: of length ([<>]=) (\d+))?, got `(\w+)`", message)
    if expected and not expected[2]:
        return SpecError(path, f"expected {_TYPE_WORDS.get(expected[1], expected[1])}, got {_TYPE_WORDS.get(expected[4], expected[4])}")
    length = re.match(r"Expected `(\w+)` of length ([<>]=) (\d+)", message)
    if length:
        noun = "characters" if length[1] == "str" else "entries"
        bound = "at most" if length[2] == "<=" else "at least"
        return SpecError(path, f"must have {bound} {length[3]} {noun}")
    number = re.match(r"Expected `int` (>=|<=) (-?\d+)", message)
    if number:
        bound = "at least" if number[1] == ">=" else "at most"
        low_high = _int_bounds(info)
        return SpecError(path, f"must be {bound} {number[2]}{low_high}")
    return SpecError(path or "spec", message[0].lower() + message[1:])


_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "float": "a number",
    "array": "a list",
    "object": "a table",
    "null": "nothing (null)",
}


def _int_bounds(info: Any) -> str:
    if isinstance(info, msgspec.inspect.IntType) and info.ge is not None and info.le is not None:
        return f" (allowed: {info.ge} to {info.le})"
    return ""


def _type_at(path: str) -> Any:
    """The msgspec type description at a dotted/indexed path inside :class:`Spec`."""
    info: Any = msgspec.inspect.type_info(Spec)
    for part in re.findall(r"[^.\[\]]+|\[[^\]]*\]", path):
        info = _unwrap(info)
        if part.startswith("["):
            if isinstance(info, msgspec.inspect.ListType):
                info = info.item_type
            elif isinstance(info, msgspec.inspect.DictType):
                info = info.value_type
        elif isinstance(info, msgspec.inspect.StructType):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, msgspec.inspect.DictType):
            info = info.value_type
    return _unwrap(info)


def _unwrap(info: Any) -> Any:
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        elif isinstance(info, msgspec.inspect.UnionType) and len(info.types) == 2 and info.includes_none:
            # An optional field (vpc_endpoints.services): describe the type it takes when given.
            info = next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType))
        else:
            return info


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(data), type(data).__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())
