"""Effective S3 access of the instance role, judged by an IAM evaluator that is not ours.

What access *should* be comes from the spec's declared intent and the bucket catalog, never
from the policies ssm-profile generated: objects of the AWS-owned agent buckets readable when
the spec asks for them (``s3.vpc_endpoint``), never writable; the user's buckets readable and
writable; ``s3:PutObjectAcl`` only where a bucket is declared cross-account;
``s3:GetEncryptionConfiguration`` only on the root of a bucket declared encrypted.

What access *is* comes from the policy documents read back from the emulator, evaluated by
moto's own IAM policy evaluation (:class:`moto.iam.access_control.IAMPolicy`): an explicit deny
wins, then an allow, else the implicit deny.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...aws import agent_buckets as catalog
from ...errors import SpecError
from ...spec.load import Spec

#: The object key probed in each bucket: any key will do; this one says where it came from.
PROBE_KEY = "ssm-profile-probe/object"
ALL_REGIONS = "(S3 is global)"


@dataclass(frozen=True)
class Probe:
    """One action on a set of resources, and whether the spec means it to be allowed."""

    scope: str
    action: str
    target: str
    resources: tuple[str, ...]
    allowed: bool


@dataclass(frozen=True)
class ProbeResult:
    """A probe and the resources whose evaluated decision differs from the expected one."""

    probe: Probe
    wrong: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.wrong


def _agent_buckets(spec: Spec, region: str) -> tuple[str, ...]:
    given = {name: catalog.RegionSuffixes(**{f: getattr(s, f) for f in s.__struct_fields__}) for name, s in spec.s3.agent_bucket_suffixes.items()}
    try:
        return catalog.agent_buckets(spec.s3.agent_buckets, region, given)
    except SpecError:
        # A spec without s3.vpc_endpoint was never held to the catalog's suffixes: probe the
        # buckets every Region has.
        return catalog.agent_buckets("seed", region, given)


def expected_probes(spec: Spec, partition: str) -> list[Probe]:
    """The probe table the spec's intent implies, per Region and for the user's own buckets."""

    def arn(bucket: str, key: str = "") -> str:
        return f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key else "")

    probes: list[Probe] = []
    for region in spec.regions:
        owned = _agent_buckets(spec, region)
        objects = tuple(arn(bucket, PROBE_KEY) for bucket in owned)
        stranger = (arn(f"ssm-profile-probe-not-in-catalog-{region}", PROBE_KEY),)
        probes += [
            Probe(region, "s3:GetObject", "objects of AWS-owned buckets", objects, spec.s3.vpc_endpoint),
            Probe(region, "s3:GetObject", "an object of a bucket not in the catalog", stranger, False),
            Probe(region, "s3:PutObject", "objects of AWS-owned buckets", objects, False),
            Probe(region, "s3:PutObjectAcl", "objects of AWS-owned buckets", objects, False),
            Probe(region, "s3:GetEncryptionConfiguration", "AWS-owned buckets", tuple(arn(b) for b in owned), False),
        ]
    for bucket in spec.s3.buckets:
        target = f"s3.buckets {bucket.name}"
        probes += [
            Probe(ALL_REGIONS, "s3:GetObject", f"{target} objects", (arn(bucket.name, PROBE_KEY),), True),
            Probe(ALL_REGIONS, "s3:PutObject", f"{target} objects", (arn(bucket.name, PROBE_KEY),), True),
            Probe(ALL_REGIONS, "s3:PutObjectAcl", f"{target} objects", (arn(bucket.name, PROBE_KEY),), bucket.cross_account),
            Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} root", (arn(bucket.name),), bucket.encrypted),
            Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} objects", (arn(bucket.name, PROBE_KEY),), False),
        ]
    manager = spec.session_manager
    if manager.enabled and manager.s3_log_bucket:
        log_object = (arn(manager.s3_log_bucket, manager.s3_log_prefix + "ssm-profile-probe.log"),)
        target = f"session log bucket {manager.s3_log_bucket}"
        probes += [
            Probe(ALL_REGIONS, "s3:PutObject", f"{target} objects", log_object, True),
            Probe(ALL_REGIONS, "s3:PutObjectAcl", f"{target} objects", log_object, manager.s3_log_cross_account),
            Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} root", (arn(manager.s3_log_bucket),), manager.s3_log_encrypted),
        ]
    return probes


def is_allowed(documents: Sequence[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether the identity policies ``documents`` allow ``action`` on ``resource``, per moto."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(json.dumps(document)).is_action_permitted(action, resource) for document in documents]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def run_probes(probes: Sequence[Probe], documents: Sequence[dict[str, Any]]) -> list[ProbeResult]:
    """Evaluate every probe against the policy documents."""
    return [
        ProbeResult(probe, tuple(r for r in probe.resources if is_allowed(documents, probe.action, r) != probe.allowed))
        for probe in probes
    ]


def probe_table(results: Sequence[ProbeResult]) -> list[str]:
    """The probe table as aligned text lines, one row per probe, wrong resources listed below it."""
    rows = [("scope", "action", "on", "expected", "result")]
    for result in results:
        probe = result.probe
        expected = "allowed" if probe.allowed else "denied"
        count = len(probe.resources)
        verdict = f"ok ({count - len(result.wrong)}/{count})" if result.ok else f"WRONG ({len(result.wrong)}/{count} not {expected})"
        rows.append((probe.scope, probe.action, probe.target, expected, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
        if index and not results[index - 1].ok:
            lines += [f"    not {rows[index][3]}: {resource}" for resource in results[index - 1].wrong]
    return lines
