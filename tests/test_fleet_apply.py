"""A fleet applied as an engine would: each account root planned and applied against the local
AWS API emulator, every provider assuming the account's role through the emulator's STS.

The generated roots are used exactly as written; the test adds only what Terraform's override
files are for (https://developer.hashicorp.com/terraform/language/files/override): the
emulator's endpoints and mock credentials on each provider, and the emulator's own network
IDs as the module's input (the fleet keeps local state: ``[backend] type = "none"``). The provider keeps
``assume_role`` and ``allowed_account_ids`` from the root, and asks the emulator's STS who it
is (``skip_requesting_account_id = false``): a root that assumed the wrong account's role
would stop before planning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from plan_state import terraform

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNTS = {"prod": "111122223333", "staging": "444455556666", "dev": "777788889999"}
REGION = "us-east-1"
ROLE = "SSMFleetInstanceRole"



def write_repo(root: Path) -> Path:
    """A repository with a one-Region spec (endpoints, hybrid role) and a 3-account fleet."""
    root.mkdir()
    (root / ".git").mkdir()
    (root / "ssm-profile.toml").write_text(
        f'version = 1\nregions = ["{REGION}"]\n[role]\nname = "{ROLE}"\n[s3]\nvpc_endpoint = true\n'
        "[hybrid]\nenabled = true\n[vpc_endpoints]\nenabled = true\n",
        encoding="utf-8",
    )
    placeholder = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"],
                   "security_group_ids": ["sg-0123456789abcdef0"], "route_table_ids": ["rtb-0123456789abcdef0"]}
    fleet = {
        "version": 1,
        "spec": "ssm-profile.toml",
        "engines": ["matrix"],
        "backend": {"type": "none"},  # local state: test_fleet_state.py proves the S3 backend
        "accounts": [
            {"name": name, "id": id, "role_arn": f"arn:aws:iam::{id}:role/terraform-deployer",
             "inputs": {"vpc_endpoint_network": {REGION: placeholder}}}
            for name, id in ACCOUNTS.items()
        ],
    }
    (root / "fleet.json").write_text(json.dumps(fleet), encoding="utf-8")
    return root / "fleet.json"


def assumed(emulator: Any, account: str, service: str) -> Any:
    """A client of ``service`` acting in ``account``: credentials from the emulator's STS."""
    return emulator.account_client(account)(service, REGION)


def network_in(ec2: Any) -> dict[str, Any]:
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fleet-endpoints", Description="fleet test", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    return {REGION: {"vpc_id": vpc, "subnet_ids": [subnet], "security_group_ids": [group], "route_table_ids": [table]}}


def emulator_override(root: Path, url: str, network: dict[str, Any]) -> None:
    from ssm_profile.terraform.apply.emulator import emulator_provider

    settings = {**emulator_provider(url), "skip_requesting_account_id": False, "skip_credentials_validation": False}
    aliases = ["", REGION.replace("-", "_")]
    override = {
        "provider": {"aws": [{**({"alias": alias} if alias else {}), **settings} for alias in aliases]},
        "module": {"ssm_profile": {"vpc_endpoint_network": network}},
    }
    (root / "emulator_override.tf.json").write_text(json.dumps(override, indent=2), encoding="utf-8")


def tf(root: Path, *args: str) -> None:
    """Run terraform in ``root`` as an engine would."""
    command, *rest = args
    result = terraform(root, command, "-input=false", "-no-color", *rest)
    assert result.returncode == 0, (result.stderr or result.stdout)[-3000:]


def test_each_account_root_applies_in_its_own_account(tmp_path: Path) -> None:
    from ssm_profile.terraform.apply.emulator import Emulator
    from ssm_profile.terraform.locate import seed_lock_file
    from ssm_profile.terraform.runner import init_turn

    fleet = write_repo(tmp_path / "infra")
    live = tmp_path / "infra" / "live"
    assert run("fleet", str(fleet), "-o", str(live))[0] == 0
    generated = {p.relative_to(live).as_posix(): p.read_bytes() for p in live.rglob("*") if p.is_file()}
    with Emulator() as emulator:
        for name, account in ACCOUNTS.items():
            root = live / name
            emulator_override(root, emulator.url, network_in(assumed(emulator, account, "ec2")))
            seed_lock_file(root)
            with init_turn():  # the test workers' inits share one plugin cache, as the runner's do
                tf(root, "init")
            tf(root, "plan", "-out=fleet.tfplan")
            tf(root, "apply", "fleet.tfplan")
            state = json.loads((root / "terraform.tfstate").read_text())
            created = {f"{r['type']}.{r['name']}": r["instances"][0]["attributes"] for r in state["resources"] if r["mode"] == "managed"}
            # the role was created in this account, by the provider that assumed this account's role
            assert created["aws_iam_role.this"]["arn"] == f"arn:aws:iam::{account}:role/{ROLE}"
            iam = assumed(emulator, account, "iam")
            assert iam.get_role(RoleName=ROLE)["Role"]["Arn"] == f"arn:aws:iam::{account}:role/{ROLE}"
            assert iam.get_instance_profile(InstanceProfileName=created["aws_iam_instance_profile.this"]["name"])
            endpoints = assumed(emulator, account, "ec2").describe_vpc_endpoints()["VpcEndpoints"]
            assert sorted(e["ServiceName"] for e in endpoints) == sorted(
                f"com.amazonaws.{REGION}.{s}" for s in ("ssm", "ssmmessages", "ec2messages", "s3")
            )
        # every account holds its own role; the emulator's default account (no role assumed) none
        assert ROLE not in [r["RoleName"] for r in emulator.client("iam", REGION).list_roles()["Roles"]]
        for name, account in ACCOUNTS.items():
            tf(live / name, "destroy", "-auto-approve")
            with pytest.raises(Exception, match="NoSuchEntity"):
                assumed(emulator, account, "iam").get_role(RoleName=ROLE)
    # the generated files were used as written: only the override, state and .terraform were added
    for relative, text in generated.items():
        assert (live / relative).read_bytes() == text
