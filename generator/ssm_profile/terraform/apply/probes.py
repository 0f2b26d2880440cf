"""Effective S3 and KMS access of the instance role (and of the Default Host Management role,
which takes the same custom policies), judged by an IAM evaluator that is not ours.

What access *should* be comes from the spec's declared intent and the bucket catalog, never
from the policies ssm-profile generated: objects of the AWS-owned agent buckets readable when
the spec asks for them (``s3.vpc_endpoint``), never writable; the user's buckets readable and
writable; ``s3:PutObjectAcl`` only where a bucket is declared cross-account;
``s3:GetEncryptionConfiguration`` only on the root of a bucket declared encrypted, and always on
the session log bucket's (the agent checks it); session logs writable in the prefix as a folder
only; ``kms:Decrypt`` and ``kms:GenerateDataKey`` with each SSE-KMS key the spec names for a
bucket, never with another key.

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
    role: str = "instance"  # whose policies are evaluated: "instance" or "default host management"


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


def expected_probes(spec: Spec, partition: str, granted: bool = True, role: str = "instance") -> list[Probe]:
    """The probe table the spec's intent implies, per Region and for the user's own buckets.

    ``granted`` False: a role the spec's custom policies are not attached to (Default Host
    Management with ``custom_policies = false``), where every probe must be denied.
    """
    probes = _agent_bucket_probes(spec, partition) + _own_bucket_probes(spec, partition)
    probes += _session_log_probes(spec, partition) + _kms_probes(spec, partition)
    return [
        Probe(p.scope, p.action, p.target, p.resources, p.allowed and granted, role) for p in probes
    ]


def role_probes(spec: Spec, partition: str) -> dict[str, list[Probe]]:
    """Per role name, its probes: the instance role's, and the Default Host Management role's when
    enabled (AWS: instances it manages have no instance profile, so it takes the custom policies)."""
    probes = {spec.role.name: expected_probes(spec, partition)}
    dhmc = spec.default_host_management
    if dhmc.enabled:
        probes[dhmc.role_name] = expected_probes(spec, partition, dhmc.custom_policies, "default host management")
    return probes


def _arn(partition: str, bucket: str, key: str = "") -> str:
    return f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key else "")


def _agent_bucket_probes(spec: Spec, partition: str) -> list[Probe]:
    probes: list[Probe] = []
    for region in spec.regions:
        owned = _agent_buckets(spec, region)
        objects = tuple(_arn(partition, bucket, PROBE_KEY) for bucket in owned)
        stranger = (_arn(partition, f"ssm-profile-probe-not-in-catalog-{region}", PROBE_KEY),)
        probes += [
            Probe(region, "s3:GetObject", "objects of AWS-owned buckets", objects, spec.s3.vpc_endpoint),
            Probe(region, "s3:GetObject", "an object of a bucket not in the catalog", stranger, False),
            Probe(region, "s3:PutObject", "objects of AWS-owned buckets", objects, False),
            Probe(region, "s3:PutObjectAcl", "objects of AWS-owned buckets", objects, False),
            Probe(region, "s3:GetEncryptionConfiguration", "AWS-owned buckets", tuple(_arn(partition, b) for b in owned), False),
        ]
    return probes


def _own_bucket_probes(spec: Spec, partition: str) -> list[Probe]:
    probes: list[Probe] = []
    for bucket in spec.s3.buckets:
        target = f"s3.buckets {bucket.name}"
        objects, root = (_arn(partition, bucket.name, PROBE_KEY),), (_arn(partition, bucket.name),)
        probes += [
            Probe(ALL_REGIONS, "s3:GetObject", f"{target} objects", objects, True),
            Probe(ALL_REGIONS, "s3:PutObject", f"{target} objects", objects, True),
            Probe(ALL_REGIONS, "s3:PutObjectAcl", f"{target} objects", objects, bucket.cross_account),
            Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} root", root, bucket.encrypted),
            Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} objects", objects, False),
        ]
    return probes


def _session_log_probes(spec: Spec, partition: str) -> list[Probe]:
    manager = spec.session_manager
    if not (manager.enabled and manager.s3_log_bucket):
        return []
    # The prefix is a folder, as in AWS's examples: "sessions" and "sessions/" both mean sessions/.
    folder = manager.s3_log_prefix.rstrip("/")
    log_object = (_arn(partition, manager.s3_log_bucket, (folder + "/" if folder else "") + "ssm-profile-probe.log"),)
    target = f"session log bucket {manager.s3_log_bucket}"
    probes = [
        Probe(ALL_REGIONS, "s3:PutObject", f"{target} objects", log_object, True),
        Probe(ALL_REGIONS, "s3:PutObjectAcl", f"{target} objects", log_object, manager.s3_log_cross_account),
        # The agent reads the bucket's encryption whenever s3EncryptionEnabled is on (shell.go validate()).
        Probe(ALL_REGIONS, "s3:GetEncryptionConfiguration", f"{target} root", (_arn(partition, manager.s3_log_bucket),), True),
    ]
    if folder:
        sibling = (_arn(partition, manager.s3_log_bucket, folder + "-other/ssm-profile-probe.log"),)
        probes.append(Probe(ALL_REGIONS, "s3:PutObject", f"{target} objects beside the log folder", sibling, False))
    return probes


def _bucket_keys(spec: Spec) -> list[tuple[str, str]]:
    """(what, key ARN) for each SSE-KMS key the spec names for a bucket."""
    keys: list[tuple[str, str]] = []
    if spec.session_manager.enabled and spec.session_manager.s3_log_kms_key_arn:
        keys.append(("session log bucket key", spec.session_manager.s3_log_kms_key_arn))
    for bucket in spec.s3.buckets:
        named = bucket.kms_key_arn if isinstance(bucket.kms_key_arn, dict) else {"": bucket.kms_key_arn} if bucket.kms_key_arn else {}
        keys += [(f"s3.buckets {bucket.name} key{' in ' + region if region else ''}", arn) for region, arn in named.items()]
    return keys


#: A key ID no spec names: its ARN, in the account and Region of a named key, must be denied.
OTHER_KEY_ID = "00000000-0000-4000-8000-00000000beef"


def _kms_probes(spec: Spec, partition: str) -> list[Probe]:
    keys = _bucket_keys(spec)
    probes = [Probe(ALL_REGIONS, action, what, (arn,), True) for what, arn in keys for action in ("kms:Decrypt", "kms:GenerateDataKey")]
    if keys:
        region, account = keys[0][1].split(":")[3:5]
        other = (f"arn:{partition}:kms:{region}:{account}:key/{OTHER_KEY_ID}",)
        probes += [Probe(ALL_REGIONS, action, "a key the spec does not name", other, False) for action in ("kms:Decrypt", "kms:GenerateDataKey")]
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
    rows = [("role", "scope", "action", "on", "expected", "result")]
    for result in results:
        probe = result.probe
        expected = "allowed" if probe.allowed else "denied"
        count = len(probe.resources)
        verdict = f"ok ({count - len(result.wrong)}/{count})" if result.ok else f"WRONG ({len(result.wrong)}/{count} not {expected})"
        rows.append((probe.role, probe.scope, probe.action, probe.target, expected, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
        if index and not results[index - 1].ok:
            lines += [f"    not {rows[index][4]}: {resource}" for resource in results[index - 1].wrong]
    return lines
