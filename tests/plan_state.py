"""Upgrades planned for real: a state as if a release had been applied, and a plan against a later module.

Used by the release tests, and by tests that plan a module of their own. The state is built from a real offline plan of the old module (no
AWS call): every planned resource of ``module.ssm_profile``, with the values AWS would have
assigned on apply filled in.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# hashicorp/aws 5.x: every resource type ssm-profile writes has schema version 0
# (`terraform providers schema -json`).
SCHEMA_VERSION = 0
ACCOUNT = "111122223333"


def _placeholders(resource: dict[str, Any]) -> dict[str, Any]:
    """Values AWS would have assigned on apply, for the attributes a plan leaves unknown."""
    values = dict(resource["values"])
    kind, name = resource["type"], values.get("name", resource["name"])
    path = values.get("path", "/")
    if kind == "aws_iam_role":
        values.update(id=name, arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}", unique_id="AROAEXAMPLE", create_date="2024-01-01T00:00:00Z")
    elif kind == "aws_iam_instance_profile":
        values.update(id=name, arn=f"arn:aws:iam::{ACCOUNT}:instance-profile{path}{name}", unique_id="AIPAEXAMPLE", create_date="2024-01-01T00:00:00Z")
    elif kind == "aws_iam_policy":
        arn = f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"
        values.update(id=arn, arn=arn, policy_id="ANPAEXAMPLE")
    else:
        values.setdefault("id", f"{kind}-{resource['name']}-example")
    return values


def _resolve_references(plan: dict[str, Any], values: dict[str, dict[str, Any]]) -> None:
    """Fill attributes the plan left unknown because they name another resource's computed value.

    An attachment of a custom policy has ``policy_arn = aws_iam_policy.s3.arn``: unknown at plan
    time, known once applied. Left out, the next plan would see it change and replace the attachment.
    """
    call = plan["configuration"]["root_module"].get("module_calls", {}).get("ssm_profile", {})
    for resource in call.get("module", {}).get("resources", []):
        current = values.get(resource["address"])
        if current is None:
            continue
        for attribute, expression in resource.get("expressions", {}).items():
            if current.get(attribute) is not None or not isinstance(expression, dict):
                continue
            for reference in expression.get("references", ()):
                address, _, key = reference.rpartition(".")
                if address in values and values[address].get(key) is not None:
                    current[attribute] = values[address][key]
                    break


def state_from_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """A state (format version 4) holding the planned resources of module.ssm_profile, as if applied."""
    planned = []
    for child in plan["planned_values"]["root_module"].get("child_modules", []):
        assert child["address"] == "module.ssm_profile"
        planned += [r for r in child["resources"] if r["mode"] == "managed"]
    values = {f"{r['type']}.{r['name']}": _placeholders(r) for r in planned}
    _resolve_references(plan, values)
    resources = [
        {
            "module": "module.ssm_profile",
            "mode": "managed",
            "type": r["type"],
            "name": r["name"],
            "provider": f'provider["{r["provider_name"]}"]',
            "instances": [{"schema_version": SCHEMA_VERSION, "attributes": values[f"{r['type']}.{r['name']}"], "sensitive_attributes": []}],
        }
        for r in planned
    ]
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": str(uuid.UUID(int=1)),
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }


@contextmanager
def root_against(
    caller_of: Path, module: Path, state: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None
) -> Iterator[Path]:
    """A throwaway root written for the module at ``caller_of`` (its providers and inputs, or
    ``inputs`` where given), calling the module at ``module`` — a consumer's root after
    upgrading — holding ``state``."""
    from ssm_profile.terraform.harness import MODULE_SUFFIXES, module_info, root_config

    with tempfile.TemporaryDirectory(prefix="ssm-profile-upgrade-") as tmp:
        root = Path(tmp)
        (root / "module").mkdir()
        for path in module.iterdir():
            if path.is_file() and path.name.endswith(MODULE_SUFFIXES):
                shutil.copy2(path, root / "module" / path.name)
        (root / "main.tf.json").write_text(json.dumps(root_config(module_info(caller_of), offline=True, inputs=inputs), indent=2))
        if state is not None:
            (root / "terraform.tfstate").write_text(json.dumps(state, indent=2))
        yield root


def terraform(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the terraform binary in ``root`` offline (the provider from the local mirror)."""
    from ssm_profile.terraform.locate import TerraformBinary, find_terraform
    from ssm_profile.terraform.runner import terraform_env

    found = find_terraform()
    assert isinstance(found, TerraformBinary), "this test runs the terraform binary"
    return subprocess.run(
        [str(found.path), *args],
        cwd=root, env=terraform_env(), capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )


def init_in(root: Path) -> subprocess.CompletedProcess[str]:
    """``terraform init`` of ``root``, seeded with the saved lock file as the harness does."""
    from ssm_profile.terraform.locate import seed_lock_file
    from ssm_profile.terraform.runner import init_turn

    with init_turn():  # the test workers' inits share one plugin cache, as the runner's do
        seed_lock_file(root)
        return terraform(root, "init", "-input=false", "-no-color", "-backend=false")


def plan_in(root: Path) -> subprocess.CompletedProcess[str]:
    """``terraform plan`` of ``root`` without refreshing (no AWS call), saved for :func:`show_plan`."""
    return terraform(root, "plan", "-input=false", "-no-color", "-refresh=false", "-lock=false", "-out=upgrade.tfplan")


def show_plan(root: Path) -> dict[str, Any]:
    """The saved plan of :func:`plan_in` as ``terraform show -json``."""
    result = terraform(root, "show", "-json", "-no-color", "upgrade.tfplan")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def plan_offline(module: Path, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plan ``module`` in a throwaway root (holding ``state``, if given), without refreshing (no AWS
    call): init, plan, show. No separate ``validate``: ``plan`` validates the configuration
    first, and a ``validate`` would start every provider of the root once more for nothing."""
    with root_against(module, module, state) as root:
        init = init_in(root)
        assert init.returncode == 0, init.stderr + init.stdout
        result = plan_in(root)
        assert result.returncode == 0, result.stderr + result.stdout
        return show_plan(root)
