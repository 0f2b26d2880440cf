"""The catalog of AWS-owned S3 buckets SSM Agent reads from (``data/agent_buckets.json``).

The data file holds facts copied from AWS's documentation, with their sources and the date
they were read. This module only fills in its templates; it never invents a bucket name.
"""

from __future__ import annotations

import functools
import json
import os
import string
from collections.abc import Mapping
from typing import Any

import msgspec

from ..errors import SpecError, key_path

SET_NAMES = ("seed", "current", "all")


class RegionSuffixes(msgspec.Struct, frozen=True):  # not a dataclass: no methods compiled at import
    """The per-Region suffixes of the Patch Manager buckets."""

    patch_manager: str = ""
    patch_manager_macos: str = ""
    patch_baseline_snapshot: str = ""


@functools.cache
def catalog() -> dict[str, Any]:
    """The raw catalog document."""
    # The package data read through the package's loader (zip imports included), as
    # pkgutil.get_data does, without importing pkgutil; not importlib.resources, which
    # imports tempfile and zipfile: ~5 ms of every generate's start-up.
    data = __spec__.loader.get_data(os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "agent_buckets.json"))  # type: ignore[union-attr]
    document: dict[str, Any] = json.loads(data.decode("utf-8"))
    return document


def catalog_suffixes(region: str) -> RegionSuffixes | None:
    """The documented suffixes of ``region``, or None when AWS documents none."""
    row = catalog()["region_suffixes"].get(region)
    if row is None:
        return None
    return RegionSuffixes(**{key: value or "" for key, value in row.items()})


PATCHING_BUCKETS_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-operations-s3-buckets.html"


@functools.cache  # asked once per Region
def _templates(set_name: str) -> tuple[dict[str, Any], ...]:
    sets = catalog()["sets"]
    if set_name == "all":
        # "current" plus the seed templates it lacks; the seed's unsuffixed snapshot bucket is
        # current's own template, so its suffix rule (one snapshot bucket per Region) holds in "all".
        current = sets["current"]["buckets"]
        known = {entry["template"] for entry in current}
        return (*current, *(entry for entry in sets["seed"]["buckets"] if entry["template"] not in known))
    return tuple(sets[set_name]["buckets"])


def _applies(entry: Mapping[str, Any], region: str) -> bool:
    """Whether a template applies in ``region``, in every set: a read grant on a name AWS does not
    own in a Region would let anyone who creates that bucket feed the agent (issue 24)."""
    return region not in entry.get("not_in", ()) and region in entry.get("only_in", (region,))


def set_needs_suffixes(set_name: str) -> bool:
    """Whether any template of ``set_name`` needs a per-Region suffix (one used only ``if`` a suffix is known does not)."""
    return any(_placeholders(entry["template"]) - {"region"} for entry in _templates(set_name) if "if" not in entry)


def covers(set_name: str, region: str) -> bool:
    """Whether the catalog alone can name every bucket of ``set_name`` in ``region``."""
    return not set_needs_suffixes(set_name) or catalog_suffixes(region) is not None


def agent_buckets(
    set_name: str, region: str, given: Mapping[str, RegionSuffixes] | None = None
) -> tuple[str, ...]:
    """The sorted bucket names of ``set_name`` in ``region``.

    ``given`` holds suffixes from the spec (``s3.agent_bucket_suffixes``); they win over the
    catalog. A Region with no suffixes from either source is an error under a set that
    needs them: a guessed or dropped bucket would break patching behind a VPC endpoint.
    """
    suffixes = (given or {}).get(region) or catalog_suffixes(region)
    values = {"region": region}
    if suffixes is not None:
        values.update({k: v for k, v in msgspec.structs.asdict(suffixes).items() if v})
    names: set[str] = set()
    for entry in _templates(set_name):
        if not _applies(entry, region):
            continue
        if "if" in entry and not values.get(entry["if"]):
            continue
        if "unless" in entry and values.get(entry["unless"]):
            continue
        missing = _placeholders(entry["template"]) - set(values)
        if missing:
            raise SpecError(
                key_path("s3.agent_bucket_suffixes", region),
                f"bucket set {set_name!r} needs the {'/'.join(sorted(missing))} suffix in {region}, and AWS's "
                f"documentation read for the catalog gives none. Either give the suffixes from AWS's table "
                f"({PATCHING_BUCKETS_DOC}) as s3.agent_bucket_suffixes.{region}, or use s3.agent_buckets = \"seed\", "
                f"which has no Patch Manager buckets: patching (AWS-RunPatchBaseline) behind VPC endpoints will "
                f"fail in {region}",
            )
        names.add(entry["template"].format(**values))
    return tuple(sorted(names))


def endpoint_service(service: str) -> dict[str, str]:
    """The catalog row of a VPC endpoint service ssm-profile creates (its kind, why it is needed, source)."""
    row: dict[str, str] = catalog()["endpoint_services"]["services"][service]
    return row


def endpoint_service_name(service: str, region: str) -> str:
    """The VPC endpoint service name of ``service`` in ``region``, e.g. ``com.amazonaws.cn-north-1.ssm``.

    The prefix is data, per Region and service (AWS CDK's table, from describe-vpc-endpoint-services):
    only the interface services listed there use the reversed ``cn.com.amazonaws``; gateway
    endpoints always use ``com.amazonaws``.
    """
    table = catalog()["endpoint_services"]
    prefix = table["default_prefix"]
    row = table["reversed_prefix"].get(region)
    if row is not None and endpoint_service(service)["kind"] == "Interface" and service in row["interface_services"]:
        prefix = row["prefix"]
    return f"{prefix}.{region}.{service}"


@functools.cache  # a few templates, asked once per Region each
def _placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class RegionCoverage(msgspec.Struct, frozen=True):
    """One Region and, per bucket set, whether the catalog alone covers it (what ``ssm-profile
    regions`` lists); a set that does not needs ``s3.agent_bucket_suffixes`` there."""

    partition: str
    region: str
    name: str
    sets: dict[str, bool]


def region_coverage(partition: str | None = None) -> list[RegionCoverage]:
    """Every known Region (of ``partition`` only, when given) and the bucket sets covering it,
    in botocore's order; :class:`SpecError` for a partition ssm-profile does not support."""
    from .partitions import partitions, suggest

    known = partitions()
    if partition is not None and partition not in known:
        raise SpecError("--partition", f"{partition!r} is not supported{suggest(partition, list(known))}; allowed: {', '.join(known)}")
    return [
        RegionCoverage(p.id, region, p.region_names[region], {name: covers(name, region) for name in SET_NAMES})
        for p in known.values()
        if partition in (None, p.id)
        for region in p.regions
    ]
