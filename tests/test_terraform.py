"""Generated modules against real Terraform and the real hashicorp/aws provider, offline.

Nothing here skips: without terraform or the provider mirror these tests fail and say what
was looked for (CI must prove the modules, not pass by omission).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import DOC_ACCOUNT, EXAMPLES, GENERATOR, MODULES, cached_plan
from ssm_profile import TerraformError, generate, write_module
from ssm_profile.grants.build import ACCOUNT, MANAGED_POLICY_MAX_CHARS, RESOURCELESS_ACTIONS
from ssm_profile.terraform.harness import normalise_plan, throwaway_root
from ssm_profile.terraform.runner import default_runner

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="session")
def json_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("json-modules")
    for name, spec in EXAMPLES.items():
        write_module(generate(spec, format="json"), root / name)
    return root


def plan_of(name: str, format_: str, json_modules: Path) -> dict[str, Any]:
    """The example's plan in ``format_`` (the committed HCL module, or its Terraform JSON twin), from the session cache."""
    return cached_plan(MODULES / name if format_ == "hcl" else json_modules / name)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_committed_module_is_terraform_fmt_clean(name: str) -> None:
    assert default_runner().fmt_check(MODULES / name) == []


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_plan_matches_snapshot(name: str, json_modules: Path, snapshot) -> None:
    snapshot(f"{name}.plan.json", normalise_plan(plan_of(name, "hcl", json_modules)))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_json_format_plans_exactly_like_hcl(name: str, json_modules: Path) -> None:
    assert normalise_plan(plan_of(name, "json", json_modules)) == normalise_plan(plan_of(name, "hcl", json_modules))


def granted_pairs(document: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs |= {(a, r) for a in actions for r in resources}
    return pairs


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_planned_policies_grant_exactly_the_domain_model(name: str, json_modules: Path) -> None:
    module = generate(EXAMPLES[name])
    # The domain model writes ACCOUNT where the module takes var.account_id; the plan has the placeholder.
    expected = {
        p.name: {(a, r.replace(ACCOUNT, DOC_ACCOUNT)) for a, r in granted_pairs(p.document())}
        for p in module.grants.custom_policies
    }
    planned = {}
    for change in plan_of(name, "hcl", json_modules)["resource_changes"]:
        if change["type"] == "aws_iam_policy":
            text = change["change"]["after"]["policy"]
            assert len("".join(text.split())) <= MANAGED_POLICY_MAX_CHARS
            planned[change["change"]["after"]["name"]] = granted_pairs(json.loads(text))
    assert planned == expected
    for pairs in planned.values():
        for action, resource in pairs:
            assert action != "*" and not action.endswith(":*")
            assert resource != "*" or action in RESOURCELESS_ACTIONS
            if resource.startswith("arn:aws:s3:::"):
                assert "*" not in resource.split("/")[0]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_planned_resources_are_the_expected_set(name: str, json_modules: Path) -> None:
    module = generate(EXAMPLES[name])
    expected = {b.address for b in module.document.of_kind("resource")}
    planned = {c["address"].removeprefix("module.ssm_profile.") for c in plan_of(name, "hcl", json_modules)["resource_changes"]}
    assert planned == expected
    assert all(c["change"]["actions"] == ["create"] for c in plan_of(name, "hcl", json_modules)["resource_changes"])


def test_partition_guard_stops_a_plan_with_a_provider_of_another_partition() -> None:
    runner = default_runner()
    with throwaway_root(MODULES / "basic", offline=True) as root:
        config = json.loads((root / "main.tf.json").read_text())
        config["provider"]["aws"][0]["region"] = "cn-north-1"
        (root / "main.tf.json").write_text(json.dumps(config))
        runner.init(root)
        with pytest.raises(TerraformError, match="partition"):
            runner.plan(root, "p.tfplan")


def test_concurrent_runs_share_a_cold_plugin_cache(tmp_path: Path) -> None:
    """Three `validate` runs at once, each the first to use an empty cache: their inits take
    turns (Terraform does not coordinate a plugin cache), so all pass and the cache holds the
    provider once."""
    cache = tmp_path / "cache"
    env = dict(os.environ, SSM_PROFILE_CACHE=str(cache), SSM_PROFILE_PROVIDERS="mirror",
               PYTHONPATH=os.pathsep.join(filter(None, [str(GENERATOR), os.environ.get("PYTHONPATH", "")])))
    runs = [
        subprocess.Popen([sys.executable, "-m", "ssm_profile.cli.main", "validate", str(MODULES / "basic")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(8)
    ]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0] * 8, results
    [cached] = (cache / "plugin-cache").glob("registry.terraform.io/hashicorp/aws/*/*")  # linked to the mirror's copy
    assert list(cached.glob("terraform-provider-aws*"))
