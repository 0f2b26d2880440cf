"""Real Terraform proves what the release classification predicts for a consumer's unchanged root.

Each test releases a module as 1.0.0, changes the spec, sees ``release --version`` refuse a
number too low (exit 1, one reason a line), releases with ``--bump auto``, then runs the real
``terraform`` on the root a consumer wrote for 1.0.0 — its providers and inputs — calling the
new module, with a state built from a real plan of 1.0.0 (tests/plan_state.py).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from plan_state import init_in, plan_in, plan_offline, root_against, show_plan, state_from_plan

pytestmark = pytest.mark.terraform


def spec(regions: list[str], services: list[str]) -> dict[str, Any]:
    return {
        "version": 1,
        "regions": regions,
        "role": {"name": "UpgradeRole"},
        "s3": {"vpc_endpoint": True, "agent_buckets": "seed"},
        "vpc_endpoints": {"enabled": True, "services": services},
    }



def release_1_0_0_then_change(tmp_path: Path, old: dict[str, Any], new: dict[str, Any], too_low: str) -> tuple[Path, Path, list[str]]:
    """Release ``old`` as 1.0.0 (kept as a copy: what consumers built their root for), change the spec
    to ``new``, check ``too_low`` is refused, and release with --bump auto. Returns (1.0.0, new, reasons)."""
    spec_file, module = tmp_path / "spec.json", tmp_path / "module"
    spec_file.write_text(json.dumps(old))
    assert run("generate", str(spec_file), "-o", str(module))[0] == 0
    assert run("release", str(module), "--version", "1.0.0")[0] == 0
    released = shutil.copytree(module, tmp_path / "module-1.0.0")
    spec_file.write_text(json.dumps(new))
    code, out, err = run("release", str(module), "--version", too_low)
    assert (code, out) == (1, ""), err
    reasons = err.splitlines()[1:]
    code, out, err = run("release", str(module), "--bump", "auto")
    assert (code, err) == (0, "") and f"{module}: released 2.0.0: major change" in out
    return released, module, reasons


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {c["address"]: c["change"]["actions"] for c in plan["resource_changes"] if c["mode"] == "managed"}


def test_a_region_added_breaks_the_unchanged_root_and_the_upgrade_steps_fix_it(tmp_path: Path) -> None:
    old, new = spec(["us-east-2"], ["ssm"]), spec(["us-east-2", "ap-southeast-2"], ["ssm"])
    v1, v2, reasons = release_1_0_0_then_change(tmp_path, old, new, too_low="1.1.0")
    assert "major: new provider alias aws.ap_southeast_2 (callers must pass it)" in reasons
    assert "major: input vpc_endpoint_network needs a new key ap-southeast-2 (callers must add it)" in reasons

    # The consumer's root for 1.0.0, unchanged, against 2.0.0: the failure the first reason predicts.
    with root_against(v1, v2) as root:
        init = init_in(root)
    assert init.returncode != 0
    assert "Missing required provider configuration" in init.stderr
    assert "aws.ap_southeast_2" in init.stderr

    # The root after the CHANGELOG's steps (the new provider passed, the new key set) upgrades in place.
    changelog = (v2 / "CHANGELOG.md").read_text()
    assert 'provider "aws" { alias = "ap_southeast_2", region = "ap-southeast-2" }' in changelog
    assert 'Add the key `"ap-southeast-2"` to `vpc_endpoint_network`' in changelog
    state = state_from_plan(plan_offline(v1))
    with root_against(v2, v2, state) as root:
        assert init_in(root).returncode == 0
        result = plan_in(root)
        assert result.returncode == 0, result.stderr
        plan = show_plan(root)
    changes = actions(plan)
    assert [a for a, act in changes.items() if "delete" in act] == []
    assert sorted(a for a, act in changes.items() if act == ["create"]) == ["module.ssm_profile.aws_vpc_endpoint.ssm_ap_southeast_2"]


def test_a_region_removed_destroys_what_the_release_listed(tmp_path: Path) -> None:
    from ssm_profile.terraform.harness import module_info, placeholder_inputs

    old = spec(["us-east-2", "eu-west-1", "ap-southeast-2"], ["ssm", "ssmmessages"])
    new = spec(["us-east-2"], ["ssm", "ssmmessages"])
    v1, v2, reasons = release_1_0_0_then_change(tmp_path, old, new, too_low="1.0.1")
    predicted = sorted(
        "module.ssm_profile." + m.group(1) for line in reasons if (m := re.fullmatch(r"major: (\S+) destroyed \(no moved block carries it over\)", line))
    )
    assert len(predicted) == 4, reasons  # two services in each of two Regions
    assert "major: provider alias aws.eu_west_1 removed (the module no longer uses eu-west-1)" in reasons

    assert "major: input vpc_endpoint_network no longer accepts the key eu-west-1 (callers must remove it)" in reasons

    # The consumer's root for 1.0.0, unchanged, against 2.0.0: the network validation refuses
    # the keys of the removed Regions, as the reasons predict.
    state = state_from_plan(plan_offline(v1))
    with root_against(v1, v2, state) as root:
        assert init_in(root).returncode == 0
        result = plan_in(root)
    assert result.returncode != 0 and "vpc_endpoint_network keys must be Region codes of this module" in result.stderr

    # After the CHANGELOG's step (the keys removed; the root still passes aws.eu_west_1 and
    # aws.ap_southeast_2 until the destroying apply): exactly what the release listed is destroyed.
    assert 'Remove the key `"eu-west-1"` from `vpc_endpoint_network`' in (v2 / "CHANGELOG.md").read_text()
    with root_against(v1, v2, state, inputs=placeholder_inputs(module_info(v2))) as root:
        assert init_in(root).returncode == 0
        result = plan_in(root)
        assert result.returncode == 0, result.stderr
        plan = show_plan(root)
    changes = actions(plan)
    destroyed = sorted(a for a, act in changes.items() if act == ["delete"])
    assert destroyed == predicted
    assert [a for a, act in changes.items() if "delete" in act and act != ["delete"]] == [], "nothing else replaced"
    assert f"{len(predicted)} to destroy" in result.stdout
    # The upgrade step's warning: the root passes aliases the module no longer declares.
    assert "Reference to undefined provider" in result.stdout + result.stderr
