"""The rules a spec must follow that its structs cannot express.

Regions that exist, one partition, ARNs in that partition, IAM's tag characters, S3's bucket
names, settings that only apply together, role names that must differ. Each check raises one
:class:`~ssm_profile.errors.SpecError` naming the field path; :func:`ssm_profile.spec.load.check_spec`
runs them in a fixed order, so a spec with several problems always reports the same one.
"""

from __future__ import annotations

import re
import unicodedata

from ..aws.bucket_names import bucket_name_problem
from ..aws.partitions import Partition, partition_of_region, partitions, suggest
from ..errors import SpecError, key_path, shown
from .model import MODULE_VARIABLE_FIELDS, Spec
from .shape import character_name


def check_regions(spec: Spec) -> Partition:
    """regions and partition: each Region written out, known and listed once, all in one partition."""
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


def check_session_manager(spec: Spec, partition: Partition) -> None:
    """session_manager: its keys in the partition and the spec's Regions, log settings that go together."""
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


def check_vpc_endpoints(spec: Spec) -> None:
    """vpc_endpoints: each service listed once, and the AWS-owned buckets granted behind them."""
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


def check_role_names_unique(spec: Spec) -> None:
    """The instance role and each enabled service role have names of their own (IAM role names are unique per account)."""
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
    check_key_table(spec, where, keys, partition)


def check_key_table(spec: Spec, where: str, keys: dict[str, str], partition: Partition) -> None:
    """A KMS key table keyed by Region: each key a Region of the spec, each ARN a key of that Region."""
    for region, arn in keys.items():
        if region not in spec.regions:
            raise SpecError(key_path(where, region), f"{shown(region)} is not one of the spec's regions ({', '.join(spec.regions)})")
        key_region = kms_key_region(key_path(where, region), arn, partition)
        if key_region != region:
            raise SpecError(key_path(where, region), f"{shown(arn)} is a key of {key_region}; the key for {region} must be in {region}")


def check_module_variables(spec: Spec) -> None:
    """module.variables: supported fields, each once, each naming something the spec creates."""
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


def check_role(spec: Spec, partition: Partition) -> None:
    """role and instance_profile: the boundary's ARN, settings only a created role takes, the profile's name."""
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


def check_tags(tags: dict[str, str]) -> None:
    """role.tags: IAM's lengths, its reserved prefix and its characters."""
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


def check_buckets(spec: Spec, partition: Partition) -> None:
    """s3.buckets: names a bucket can have, each bucket listed once, KMS key ARNs of the partition."""
    for index, bucket in enumerate(spec.s3.buckets):
        problem = bucket_name_problem(bucket.name)
        if problem:
            raise SpecError(f"s3.buckets[{index}].name", f"{shown(bucket.name)} {problem}")
        where = f"s3.buckets[{index}].kms_key_arn"
        if isinstance(bucket.kms_key_arn, dict):
            check_key_table(spec, where, bucket.kms_key_arn, partition)
        elif bucket.kms_key_arn:
            # A bucket's SSE-KMS key lives in the bucket's Region, which need not be one of the
            # spec's (a central bucket): any Region of the partition will do.
            kms_key_region(where, bucket.kms_key_arn, partition)
    seen: dict[str, int] = {}
    for index, bucket in enumerate(spec.s3.buckets):
        if bucket.name in seen:
            raise SpecError(
                f"s3.buckets[{index}].name",
                f"{shown(bucket.name)} is listed twice (also s3.buckets[{seen[bucket.name]}]); list each bucket once",
            )
        seen[bucket.name] = index


def check_agent_bucket_suffixes(spec: Spec) -> None:
    """s3.agent_bucket_suffixes: keyed by Regions of the spec."""
    for region in spec.s3.agent_bucket_suffixes:
        if region not in spec.regions:
            raise SpecError(
                key_path("s3.agent_bucket_suffixes", region),
                f"{shown(region)} is not one of the spec's regions ({', '.join(spec.regions)})",
            )
