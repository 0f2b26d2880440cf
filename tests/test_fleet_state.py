"""Each account root keeps its state under its own key in S3, locked, with the files as generated.

A fleet of two accounts with ``[backend] type = "s3"`` is generated, the emulator started and
the state bucket created in it (versioned, so every write of the lock file stays visible).
Each root then runs what an engine runs: ``terraform init``, ``plan``, ``apply``. The backend is
pointed at the emulator only through ``-backend-config`` and the environment, as a CI would
(S3 backend docs, https://developer.hashicorp.com/terraform/language/backend/s3: ``endpoints``,
``use_path_style``, ``skip_credentials_validation``, ``skip_requesting_account_id``); the
providers through an override file as in test_fleet_apply.py. The backend also assumes a role
through its ``assume_role`` block, answered by the emulator's STS.

Expected values come from the S3 backend docs: the state object at ``key``; with
``use_lockfile`` the lock object at ``<key>.tflock`` is written for an operation and removed
after it; and a lock object already there stops the next operation.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from test_fleet_apply import REGION, ROLE

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNTS = {"alpha": "111122223333", "bravo": "444455556666"}
BUCKET = "acme-fleet-state"
# The emulator's default account answers a request signed without an assumed role; the backend
# assumes this role in it (moto grants any role: https://docs.getmoto.org/en/latest/docs/multi_account.html).
STATE_ROLE = "arn:aws:iam::123456789012:role/terraform-state"


def write_repo(root: Path) -> Path:
    root.mkdir()
    (root / ".git").mkdir()
    (root / "ssm-profile.toml").write_text(
        f'version = 1\nregions = ["{REGION}"]\n[role]\nname = "{ROLE}"\n', encoding="utf-8"
    )
    fleet = {
        "version": 1,
        "spec": "ssm-profile.toml",
        "engines": ["atlantis", "terragrunt"],
        "backend": {"type": "s3", "bucket": BUCKET, "region": REGION, "use_lockfile": True, "encrypt": True, "assume_role": {"role_arn": STATE_ROLE}},
        "provider": {"default_tags": {"ManagedBy": "ssm-profile"}},
        "accounts": [{"name": name, "id": id, "role_arn": f"arn:aws:iam::{id}:role/terraform-deployer"} for name, id in ACCOUNTS.items()],
    }
    (root / "payments.json").write_text(json.dumps(fleet), encoding="utf-8")
    return root / "payments.json"


def provider_override(root: Path, url: str) -> None:
    """The providers' endpoints and mock credentials (the backend keeps the generated block)."""
    from ssm_profile.terraform.apply.emulator import emulator_provider

    settings = {**emulator_provider(url), "skip_requesting_account_id": False, "skip_credentials_validation": False}
    (root / "emulator_override.tf.json").write_text(json.dumps({"provider": {"aws": [settings]}}), encoding="utf-8")


def terraform_ci(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """terraform as a CI job runs it: credentials in the environment, offline providers."""
    from ssm_profile.terraform.apply.emulator import EMULATOR_CREDENTIALS
    from ssm_profile.terraform.locate import TerraformBinary, find_terraform
    from ssm_profile.terraform.runner import terraform_env

    found = find_terraform()
    assert isinstance(found, TerraformBinary)
    env = {**terraform_env(), "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["access_key"], "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["secret_key"]}
    env.pop("AWS_PROFILE", None)
    return subprocess.run([str(found.path), *args], cwd=root, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.stderr or result.stdout)[-3000:]


def backend_config(url: str) -> list[str]:
    """The -backend-config settings that point the s3 backend at the emulator, nothing else."""
    return [
        f'-backend-config=endpoints={{s3="{url}",sts="{url}"}}',
        "-backend-config=use_path_style=true",
        "-backend-config=skip_credentials_validation=true",
        "-backend-config=skip_requesting_account_id=true",
        "-backend-config=skip_metadata_api_check=true",
    ]


def lock_writes(s3: Any, key: str) -> list[str]:
    """What happened to ``<key>.tflock`` in the versioned bucket: 'put' and 'delete' entries."""
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix=f"{key}.tflock")
    return ["put"] * len(listed.get("Versions", [])) + ["delete"] * len(listed.get("DeleteMarkers", []))


def test_each_account_keeps_its_state_under_its_own_key_locked(tmp_path: Path) -> None:
    from ssm_profile.terraform.apply.emulator import Emulator
    from ssm_profile.terraform.locate import seed_lock_file
    from ssm_profile.terraform.runner import init_turn

    fleet = write_repo(tmp_path / "infra")
    live = tmp_path / "infra" / "live"
    code, _, err = run("fleet", str(fleet), "-o", str(live))
    assert code == 0, err
    generated = {p.relative_to(live).as_posix(): p.read_bytes() for p in live.rglob("*") if p.is_file()}
    with Emulator() as emulator:
        s3 = emulator.client("s3", REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        for name, account in ACCOUNTS.items():
            root, key = live / name, f"payments/{name}/terraform.tfstate"
            provider_override(root, emulator.url)
            seed_lock_file(root)
            with init_turn():
                ok(terraform_ci(root, "init", "-input=false", "-no-color", *backend_config(emulator.url)))
            ok(terraform_ci(root, "plan", "-input=false", "-no-color", "-out=ci.tfplan"))
            ok(terraform_ci(root, "apply", "-input=false", "-no-color", "ci.tfplan"))
            # the state of this account, under its own key, holds the role created in this account
            state = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
            roles = [r["instances"][0]["attributes"] for r in state["resources"] if r["type"] == "aws_iam_role" and r["mode"] == "managed"]
            assert [r["arn"] for r in roles] == [f"arn:aws:iam::{account}:role/{ROLE}"]
            assert roles[0]["tags_all"] == {"ManagedBy": "ssm-profile"}  # [provider] default_tags reached the role
            # the lock was taken and released: <key>.tflock written and removed for each of plan and apply
            writes = lock_writes(s3, key)
            assert writes.count("put") >= 2 and writes.count("delete") == writes.count("put"), writes
            assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{key}.tflock")
            assert not (root / "terraform.tfstate").exists()  # nothing kept locally
        states = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
        assert states == [f"payments/{name}/terraform.tfstate" for name in sorted(ACCOUNTS)]
        # a lock held by another run stops the next operation (S3 backend docs, State Locking)
        held = f"payments/{next(iter(ACCOUNTS))}/terraform.tfstate.tflock"
        s3.put_object(Bucket=BUCKET, Key=held, Body=json.dumps({"ID": "held-by-another-run", "Operation": "OperationTypeApply", "Who": "ci@elsewhere"}).encode())
        blocked = terraform_ci(live / next(iter(ACCOUNTS)), "plan", "-input=false", "-no-color", "-lock-timeout=0s")
        assert blocked.returncode != 0 and "Error acquiring the state lock" in blocked.stderr, blocked.stderr[-2000:]
    # the generated files were used as written: only overrides, .terraform and the plan were added
    for relative, data in generated.items():
        assert (live / relative).read_bytes() == data
    added = {p.relative_to(live).as_posix() for p in live.rglob("*") if p.is_file() and ".terraform/" not in p.relative_to(live).as_posix()} - set(generated)
    assert added == {f"{n}/{f}" for n in ACCOUNTS for f in ("emulator_override.tf.json", "ci.tfplan", ".terraform.lock.hcl")}
    # and regenerating the fleet keeps the files the team (and the CI) added, and finds it current
    assert run("fleet", str(fleet), "-o", str(live), "--check")[0] == 0
