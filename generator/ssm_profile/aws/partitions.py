"""AWS partitions and Regions, read from botocore's published partition data.

botocore ships ``data/partitions.json`` (the same file the AWS SDKs use to resolve endpoints).
Importing botocore itself costs far more than reading that file, so the file is located
through the import system and parsed with :mod:`json` directly.
"""

from __future__ import annotations

import functools
import importlib.machinery
import json
from pathlib import Path

import msgspec

from ..errors import SpecError

#: Partitions whose IAM and S3 ARNs this tool has been proven against; others are refused.
SUPPORTED_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


# A msgspec Struct, not a dataclass: built in C at import, where a dataclass compiles its methods.
class Partition(msgspec.Struct, frozen=True):
    """One AWS partition: its ID (the ARN prefix), DNS suffix and Regions."""

    id: str
    dns_suffix: str
    regions: tuple[str, ...]
    region_names: dict[str, str]

    def arn(self, service: str, resource: str, region: str = "", account: str = "") -> str:
        """An ARN in this partition."""
        return f"arn:{self.id}:{service}:{region}:{account}:{resource}"

    def service_principal(self, service: str) -> str:
        """The service principal of ``service`` in this partition (``ec2.amazonaws.com`` in aws)."""
        # IAM accepts "<service>.amazonaws.com" in every partition, including aws-cn, whose
        # console-created roles still show the .com.cn form; the generic form is what AWS's own
        # managed trust policies use across partitions.
        return f"{service}.amazonaws.com"


def _partitions_file() -> Path:
    # The path finder alone: importlib.util (what find_spec needs besides) costs ~0.4 ms of start-up.
    spec = importlib.machinery.PathFinder.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise SpecError("partition", "botocore is not installed; reinstall ssm-profile")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"


@functools.cache
def partitions() -> dict[str, Partition]:
    """Every supported partition, keyed by ID, in botocore's order."""
    raw = json.loads(_partitions_file().read_text(encoding="utf-8"))
    found: dict[str, Partition] = {}
    for entry in raw["partitions"]:
        if entry["id"] not in SUPPORTED_PARTITIONS:
            continue
        # "aws-global" and friends are endpoint aliases, not Regions an instance runs in.
        names = {
            code: info.get("description", code)
            for code, info in sorted(entry["regions"].items())
            if not code.endswith("-global")
        }
        found[entry["id"]] = Partition(
            id=entry["id"],
            dns_suffix=entry["outputs"]["dnsSuffix"],
            regions=tuple(names),
            region_names=names,
        )
    return found


def partition_of_region(region: str) -> Partition | None:
    """The supported partition that holds ``region``, or None."""
    for partition in partitions().values():
        if region in partition.region_names:
            return partition
    return None


#: Longest string :func:`suggest` looks at (Region codes and field names are far shorter).
MAX_SUGGEST_CHARS = 64


def suggest(value: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean X?)`` for the closest choice, or an empty string.

    Closeness is edit distance counting a swap of two neighbours as one edit (typing
    ``us-esat-1`` means ``us-east-1``), with difflib breaking ties. A suggestion may differ in
    at most a third of ``value``, so choices whose length differs by more are never scored,
    and a value longer than :data:`MAX_SUGGEST_CHARS` is never a typo of a short name: the
    cost stays bounded whatever a spec holds.
    """
    if not choices or not isinstance(value, str) or len(value) > MAX_SUGGEST_CHARS:
        return ""
    import difflib

    limit = max(1, len(value) // 3)
    scored = sorted(
        (_edit_distance(value, choice), -difflib.SequenceMatcher(None, value, choice).ratio(), choice)
        for choice in choices
        if abs(len(choice) - len(value)) <= limit
    )
    if not scored:
        return ""
    distance, _, best = scored[0]
    return f" (did you mean {best}?)" if distance <= limit else ""


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
