"""Property-based tests: any valid spec gives a module Terraform accepts; any invalid spec
gives the error contract (exit 2, one line naming a field, nothing written)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run
from ssm_profile import generate, write_module
from ssm_profile.aws.agent_buckets import catalog
from ssm_profile.aws.partitions import partitions
from ssm_profile.terraform.runner import default_runner

IAM_NAME = st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,40}", fullmatch=True)
BUCKET = st.from_regex(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]", fullmatch=True).filter(lambda n: not n.startswith("xn--"))
TAG_TEXT = st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{1,20}", fullmatch=True).filter(lambda t: not t.lower().startswith("aws:"))


@st.composite
def valid_specs(draw: st.DrawFn) -> dict:
    partition = draw(st.sampled_from(sorted(partitions())))
    pool = list(partitions()[partition].regions)
    regions = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=min(6, len(pool)), unique=True))
    vpc_endpoint = draw(st.booleans())
    catalogued = all(r in catalog()["region_suffixes"] for r in regions)
    bucket_set = draw(st.sampled_from(["seed", "current", "all"] if catalogued else ["seed"]))
    create = draw(st.booleans())
    role: dict = {"name": draw(IAM_NAME), "create": create}
    if create:
        role["tags"] = draw(st.dictionaries(TAG_TEXT, TAG_TEXT, max_size=3))
        role["max_session_duration"] = draw(st.integers(3600, 43200))
        role["path"] = draw(st.sampled_from(["/", "/ssm/", "/platform/ssm/"]))
    buckets = draw(
        st.lists(
            st.fixed_dictionaries({"name": BUCKET, "cross_account": st.booleans(), "encrypted": st.booleans()}),
            max_size=4,
            unique_by=lambda b: b["name"],
        )
    )
    return {
        "version": 1,
        "regions": regions,
        "role": role,
        "instance_profile": {"create": draw(st.booleans())},
        "managed_policies": {
            "instance_core": draw(st.booleans()),
            "directory_service": draw(st.booleans()),
            "cloudwatch_agent": draw(st.booleans()),
        },
        "s3": {"vpc_endpoint": vpc_endpoint, "agent_buckets": bucket_set, "buckets": buckets},
        "limits": {"managed_policies_per_role": 20},
    }


@settings(max_examples=60, deadline=None)
@given(valid_specs())
def test_valid_specs_always_generate_within_iam_limits(data: dict) -> None:
    module = generate(data)
    assert all(p.size <= 6144 for p in module.grants.custom_policies)
    assert bool(module.grants.custom_policies) == bool(data["s3"]["vpc_endpoint"] or data["s3"]["buckets"])
    for policy in module.grants.custom_policies:
        for statement in policy.statements:
            assert "*" not in statement.actions and "*" not in statement.resources


@pytest.mark.terraform
@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(valid_specs(), min_size=6, max_size=6))
def test_valid_specs_validate_with_terraform(batch: list[dict]) -> None:
    # One root calling every generated module: one init and one validate for the whole batch.
    runner = default_runner()
    with tempfile.TemporaryDirectory(prefix="ssm-profile-prop-") as tmp:
        root = Path(tmp)
        calls = {}
        for index, data in enumerate(batch):
            write_module(generate(data, format="json" if index % 2 else "hcl"), root / f"m{index}")
            calls[f"m{index}"] = {"source": f"./m{index}"}
        (root / "main.tf.json").write_text(json.dumps({"module": calls}))
        runner.init(root)
        runner.validate(root)  # raises TerraformError naming the first diagnostic
        # ... and what it validated is every generated module: init installed each call.
        installed = json.loads((root / ".terraform" / "modules" / "modules.json").read_text())["Modules"]
        assert {m["Key"]: m["Dir"] for m in installed if m["Key"]} == {name: name for name in calls}


MUTATIONS = [
    (lambda d: d.update(extra_key=1), "extra_key: unknown field"),
    (lambda d: d["role"].update(name="bad name!"), "role.name:"),
    (lambda d: d.update(regions=d["regions"] + ["xx-nowhere-1"]), "regions["),
    (lambda d: d.update(regions=d["regions"] + [d["regions"][0]]), "regions["),
    (lambda d: d["s3"].update(buckets=[{"name": "UPPER/KEY"}]), "s3.buckets[0].name:"),
    (lambda d: d["s3"].update(agent_buckets="newest"), "s3.agent_buckets:"),
    (lambda d: d["managed_policies"].update(instance_core="yes"), "managed_policies.instance_core:"),
    (lambda d: d.update(version=7), "version:"),
    (lambda d: d["limits"].update(managed_policies_per_role=0), "limits.managed_policies_per_role:"),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(valid_specs(), st.sampled_from(range(len(MUTATIONS))))
def test_invalid_specs_follow_the_error_contract(data: dict, which: int) -> None:
    mutate, expected = MUTATIONS[which]
    mutate(data)
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps(data))
        out = Path(tmp) / "out"
        code, _, err = run("generate", str(spec), "-o", str(out))
        assert code == 2
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"ssm-profile: error: {expected}"), err
        assert not out.exists()
