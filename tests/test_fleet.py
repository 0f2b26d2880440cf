"""Fleets: one shared module, one root per account, and the files engines read (issue 17)."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES_DIR, run

FLEET_EXAMPLE = EXAMPLES_DIR / "fleet"
ACCOUNTS = {"prod": "111122223333", "staging": "444455556666", "dev": "777788889999"}



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the example fleet: ``fleet.toml`` and its base spec at the top."""
    root = tmp_path / "infra"
    shutil.copytree(FLEET_EXAMPLE, root)
    (root / ".git").mkdir()
    return root


def fleet_data(**changes: Any) -> dict[str, Any]:
    network = {
        region: {
            "vpc_id": "vpc-0123456789abcdef0",
            "subnet_ids": ["subnet-0123456789abcdef0"],
            "security_group_ids": ["sg-0123456789abcdef0"],
            "route_table_ids": ["rtb-0123456789abcdef0"],
        }
        for region in ("us-east-1", "eu-west-1")
    }
    data: dict[str, Any] = {
        "version": 1,
        "spec": "ssm-profile.toml",
        "module": "modules/ssm-profile",
        "engines": ["atlantis", "matrix", "terragrunt"],
        "backend": {"type": "s3", "bucket": "acme-terraform-state", "region": "us-east-1"},
        "accounts": [
            {"name": name, "id": id, "role_arn": f"arn:aws:iam::{id}:role/terraform-deployer", "inputs": {"vpc_endpoint_network": network}}
            for name, id in ACCOUNTS.items()
        ],
    }
    data.update(changes)
    return data


def write_fleet(repo: Path, data: dict[str, Any]) -> Path:
    path = repo / "fleet.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_example_generates_roots_and_engine_files(repo: Path) -> None:
    code, out, err = run("fleet", str(repo / "fleet.toml"), "-o", str(repo / "live"))
    assert (code, err) == (0, ""), err
    assert "wrote 3 account roots (engines: atlantis, matrix; backend: s3)" in out
    files = set(tree(repo / "live"))
    for name in ACCOUNTS:
        assert {f"{name}/{f}" for f in ("versions.tf", "providers.tf", "main.tf", "backend.tf")} <= files
    assert {"fleet-matrix.json", ".ssm-profile.json"} <= files
    assert "atlantis.yaml" not in files and (repo / "atlantis.yaml").is_file()  # one file, at the repository root
    assert (repo / "modules/ssm-profile/main.tf").is_file()


def test_each_root_assumes_its_own_role_in_every_region(repo: Path) -> None:
    assert run("fleet", str(write_fleet(repo, fleet_data())), "-o", str(repo / "live"))[0] == 0
    providers = (repo / "live/staging/providers.tf").read_text()
    assert providers.count('role_arn = "arn:aws:iam::444455556666:role/terraform-deployer"') == 3  # default + 2 Regions
    assert providers.count('allowed_account_ids = ["444455556666"]') == 3
    assert 'alias  = "eu_west_1"' in providers and 'alias  = "us_east_1"' in providers
    main = (repo / "live/staging/main.tf").read_text()
    assert 'source     = "../../modules/ssm-profile"' in main and 'account_id = "444455556666"' in main
    assert "aws.eu_west_1 = aws.eu_west_1" in main
    backend = (repo / "live/staging/backend.tf").read_text()
    assert 'key          = "fleet/staging/terraform.tfstate"' in backend and "use_lockfile = true" in backend


def test_atlantis_projects_follow_the_repo_config_format(repo: Path) -> None:
    """Repo config version 3: one project per root; ``dir`` relative to the repository root and
    ``when_modified`` relative to the project's dir, matching the files that really exist."""
    assert run("fleet", str(write_fleet(repo, fleet_data())), "-o", str(repo / "live"))[0] == 0
    config = yaml.safe_load((repo / "atlantis.yaml").read_text())
    assert config["version"] == 3 and set(config) == {"version", "projects"}
    assert [p["name"] for p in config["projects"]] == [f"ssm-profile/live/{name}" for name in ACCOUNTS]
    module_files = [p for p in (repo / "modules/ssm-profile").rglob("*.tf*")]
    for project in config["projects"]:
        assert set(project) == {"name", "dir", "autoplan"} and set(project["autoplan"]) == {"enabled", "when_modified"}
        project_dir = repo / project["dir"]
        assert (project_dir / "main.tf").is_file()
        patterns = project["autoplan"]["when_modified"]
        # every generated file of the root, the shared module, the spec and the fleet file is watched
        watched = [*project_dir.glob("*.tf"), *module_files, repo / "ssm-profile.toml", repo / "fleet.json"]
        for path in watched:
            relative = Path(*[".."] * len(project_dir.relative_to(repo).parts)) / path.relative_to(repo) if not path.is_relative_to(project_dir) else path.relative_to(project_dir)
            assert any(fnmatch.fnmatch(relative.as_posix(), pattern.replace("**/", "*")) for pattern in patterns), relative


def test_matrix_and_workspaces_name_every_root(repo: Path) -> None:
    data = fleet_data(engines=["matrix", "terragrunt", "hcp-terraform"], backend={"type": "none"})
    assert run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))[0] == 0
    matrix = json.loads((repo / "live/fleet-matrix.json").read_text())
    assert matrix == [{"name": n, "dir": f"live/{n}", "account_id": i} for n, i in ACCOUNTS.items()]
    workspaces = json.loads((repo / "live/workspaces.tf.json").read_text())["resource"]["tfe_workspace"]
    assert {w["working_directory"] for w in workspaces.values()} == {f"live/{n}" for n in ACCOUNTS}
    assert all("modules/ssm-profile" in w["trigger_prefixes"] for w in workspaces.values())
    assert (repo / "live/dev/terragrunt.hcl").read_text().startswith("# Generated by ssm-profile")


def test_output_is_byte_identical_and_the_check_gate_holds(repo: Path) -> None:
    fleet = write_fleet(repo, fleet_data())
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    first = tree(repo / "live")
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    assert tree(repo / "live") == first
    assert run("fleet", str(fleet), "-o", str(repo / "live"), "--check")[0] == 0
    data = fleet_data()
    data["accounts"] = data["accounts"][:2]
    write_fleet(repo, data)
    code, _, err = run("fleet", str(fleet), "-o", str(repo / "live"), "--check")
    assert code == 1 and "dev/main.tf" in err


def test_one_account_is_one_account_root(repo: Path) -> None:
    data = fleet_data()
    data["accounts"] = data["accounts"][:1]
    code, out, err = run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))
    assert (code, err) == (0, ""), err
    assert f"{repo / 'live'}: wrote 1 account root (engines: atlantis, matrix, terragrunt; backend: s3)\n" in out


def test_user_files_are_kept_and_hand_edits_refused(repo: Path) -> None:
    fleet = write_fleet(repo, fleet_data())
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    (repo / "live/prod/.terraform.lock.hcl").write_text("# the team's lock file\n")
    (repo / "live/prod/notes.md").write_text("ours\n")
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    assert (repo / "live/prod/notes.md").read_text() == "ours\n"
    assert (repo / "live/prod/.terraform.lock.hcl").is_file()
    (repo / "live/prod/main.tf").write_text("# edited\n")
    code, _, err = run("fleet", str(fleet), "-o", str(repo / "live"))
    assert code == 2 and "prod/main.tf" in err and "--force" in err


def test_drift_finds_a_stale_fleet(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = write_fleet(repo, fleet_data())
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    monkeypatch.chdir(repo)
    code, _out, err = run("drift")
    assert code == 0, err
    data = fleet_data()
    data["accounts"][0]["role_arn"] = "arn:aws:iam::111122223333:role/other-deployer"
    write_fleet(repo, data)
    code, _, err = run("drift")
    assert code == 1 and "prod/providers.tf" in err


def _account(**changes: Any) -> dict[str, Any]:
    account = dict(fleet_data()["accounts"][0])
    account.update(changes)
    return account


BAD_FLEETS = [
    ({"version": 2}, "version: 2 is not a fleet file version; allowed: 1"),
    ({"engines": ["jenkins"]}, "engines[0]:"),
    ({"backend": {"type": "gcs"}}, "backend.type:"),
    ({"backend": "s3"}, "backend: 's3': the backend is now a table"),
    ({"accounts": []}, "accounts: needs at least one account"),
    ({"colour": "blue"}, "colour: unknown field"),
    ({"accounts": [_account(), _account(name="prod", id="444455556666", role_arn="arn:aws:iam::444455556666:role/x")]}, "accounts[1].name: 'prod' is also the name of accounts[0]"),
    ({"accounts": [_account(), _account(name="other")]}, "accounts[1].id: 111122223333 is also the ID of accounts[0]"),
    ({"accounts": [_account(id="1111")]}, "accounts[0].id: '1111' is not an AWS account ID (12 digits)"),
    ({"accounts": [_account(role_arn="arn:aws:iam::999999999999:role/x")]}, "accounts[0].role_arn: is a role of account 999999999999, not of this account (111122223333)"),
    ({"accounts": [_account(role_arn="arn:aws-cn:iam::111122223333:role/x")]}, "accounts[0].role_arn: is in partition aws-cn, but the spec's Regions are in aws"),
    ({"accounts": [_account(role_arn="arn:aws:iam::111122223333:user/x")]}, "accounts[0].role_arn: 'arn:aws:iam::111122223333:user/x' is not an IAM role ARN"),
    ({"accounts": [_account(inputs={"vpc_endpoint_netwrok": {}})]}, 'accounts[0].inputs["vpc_endpoint_netwrok"]: is not an input of the shared module (did you mean vpc_endpoint_network?); allowed: tags, vpc_endpoint_network'),
    ({"accounts": [_account(inputs={})]}, 'accounts[0].inputs["vpc_endpoint_network"]: is required'),
    ({"accounts": [_account(name="../escape")]}, "accounts[0].name: '../escape' must be 1 to 64 letters"),
    ({"accounts": [_account(id=111122223333)]}, "accounts[0].id: expected a string, got an integer"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FLEETS, ids=[m.split(":")[0] for _, m in BAD_FLEETS])
def test_bad_fleet_is_exit_2_one_line_naming_the_field(repo: Path, changes: dict[str, Any], message: str) -> None:
    code, out, err = run("fleet", str(write_fleet(repo, fleet_data(**changes))), "-o", str(repo / "live"))
    assert code == 2, out
    assert err.startswith("ssm-profile: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not (repo / "live").exists() and not (repo / "modules").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 1, "version": 1}', "version"),
        ("version: !!set {1}\n", "version"),
        ("\ufeff" + 'version = 2\nspec = "s"\naccounts = []\n', "version: 2 is not a fleet file version"),
    ],
    ids=["duplicate-json-key", "yaml-tag", "toml-bom"],
)
def test_hostile_fleet_files_get_the_spec_readers_contract(repo: Path, text: str, message: str) -> None:
    suffix = ".json" if text.startswith("{") else ".yaml" if "!!" in text else ".toml"
    path = repo / f"hostile{suffix}"
    path.write_text(text, encoding="utf-8")
    code, _, err = run("fleet", str(path), "-o", str(repo / "live"))
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (repo / "live").exists()


def test_live_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    code, _, err = run("fleet", str(repo / "fleet.toml"), "-o", str(tmp_path / "elsewhere"))
    assert code == 2 and err.startswith("ssm-profile: error: -o: ") and "outside" in err
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.terraform
def test_every_root_validates_in_one_terraform_run(repo: Path) -> None:
    """`validate LIVE`: three account roots, one init and one validate — the provider starts
    once for the whole fleet."""
    from ssm_profile.terraform import runner as runner_module

    assert run("fleet", str(write_fleet(repo, fleet_data())), "-o", str(repo / "live"))[0] == 0
    calls: list[str] = []
    real = runner_module.default_runner()

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(real, name)

    code, out, err = run("validate", str(repo / "live"), runner=Counting())
    assert code == 0, err
    assert "3 account roots valid" in out
    assert [c for c in calls if c in ("init", "validate", "plan")] == ["init", "validate"]
    for name in ACCOUNTS:  # the roots are what terraform fmt would write
        assert real.fmt_check(repo / "live" / name) == []
