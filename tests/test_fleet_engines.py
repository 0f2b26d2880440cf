"""A fleet's files as each engine reads them (issue 26): Atlantis, Terragrunt, HCP Terraform.

No engine can run here, so each file is held to a schema written by hand from the engine's
documentation (cited at each), and parsed by an independent parser (PyYAML, python-hcl2).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from conftest import EXAMPLES_DIR, run
from ssm_profile import SpecError
from test_fleet import ACCOUNTS, FLEET_EXAMPLE, fleet_data, write_fleet


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the example fleet, as in test_fleet.py."""
    root = tmp_path / "infra"
    shutil.copytree(FLEET_EXAMPLE, root)
    (root / ".git").mkdir()
    return root

# -- Atlantis repo config, version 3 ---------------------------------------------------------
# Written from https://www.runatlantis.io/docs/repo-level-atlantis-yaml.html (Reference: the
# top-level keys, Project, Autoplan) and apply-requirements.html (the requirement names).
ATLANTIS_TOP = {
    "version": int, "automerge": bool, "autodiscover": dict, "delete_source_branch_on_merge": bool, "parallel_plan": bool,
    "parallel_apply": bool, "abort_on_execution_order_fail": bool, "projects": list, "workflows": dict, "allowed_regexp_prefixes": list,
}
ATLANTIS_PROJECT = {
    "name": str, "branch": str, "dir": str, "workspace": str, "execution_order_group": int, "delete_source_branch_on_merge": bool,
    "repo_locking": bool, "repo_locks": dict, "custom_policy_check": bool, "autoplan": dict, "plan_requirements": list,
    "apply_requirements": list, "import_requirements": list, "silence_pr_comments": list, "terraform_version": str,
    "terraform_distribution": str, "depends_on": list, "workflow": str, "policy_check": bool,
}
ATLANTIS_AUTOPLAN = {"enabled": bool, "when_modified": list}
APPLY_REQUIREMENTS = {"approved", "mergeable", "undiverged"}


def atlantis_problems(config: Any) -> list[str]:
    """Where ``config`` breaks the repo config reference; empty when it keeps to it."""
    problems = []

    def typed(where: str, mapping: dict[str, Any], schema: dict[str, type]) -> None:
        for key, value in mapping.items():
            if key not in schema:
                problems.append(f"{where}.{key}: unknown key (Atlantis refuses unknown keys)")
            elif not isinstance(value, schema[key]) or (schema[key] is int and isinstance(value, bool)):
                problems.append(f"{where}.{key}: {type(value).__name__}, not {schema[key].__name__}")

    if not isinstance(config, dict):
        return ["not a mapping"]
    typed("", config, ATLANTIS_TOP)
    if config.get("version") != 3:
        problems.append("version must be 3")
    names = []
    for index, project in enumerate(config.get("projects", [])):
        at = f"projects[{index}]"
        typed(at, project, ATLANTIS_PROJECT)
        if "dir" not in project:
            problems.append(f"{at}.dir: required")
        elif project["dir"].startswith("/") or ".." in project["dir"].split("/"):
            problems.append(f"{at}.dir: must be relative to the repository root")
        typed(f"{at}.autoplan", project.get("autoplan", {}), ATLANTIS_AUTOPLAN)
        problems += [f"{at}.apply_requirements: {r}" for r in project.get("apply_requirements", []) if r not in APPLY_REQUIREMENTS]
        names.append(project.get("name"))
    # "name: required if there is more than one project with the same dir and workspace"
    problems += [f"project name {n!r} twice" for n in set(names) if n is not None and names.count(n) > 1]
    return problems


def test_the_schema_catches_what_atlantis_refuses() -> None:
    assert atlantis_problems({"version": 3, "projects": [{"dir": "a", "name": "x"}]}) == []
    broken = {"version": 2, "projects": [{"dir": "../a", "name": "x", "ssm_profile": True, "apply_requirements": ["reviewed"]}, {"dir": "b", "name": "x"}]}
    assert len(atlantis_problems(broken)) == 5


@pytest.fixture
def two_fleets(tmp_path: Path) -> Path:
    """A repository with two fleets (prod and dev, each its own spec) and a team's own atlantis.yaml."""
    root = tmp_path / "infra"
    root.mkdir()
    (root / ".git").mkdir()
    for name in ("prod", "dev"):
        folder = root / "fleets" / name
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLES_DIR / "fleet" / "ssm-profile.toml", folder / "ssm-profile.toml")
    (root / "atlantis.yaml").write_text(
        "# The platform team's Atlantis config.\nversion: 3\nautomerge: true\nprojects:\n"
        "  - name: network\n    dir: network  # our VPCs\n    workflow: default\n",
        encoding="utf-8",
    )
    return root


def fleet_in(repo: Path, name: str, **changes: Any) -> Path:
    data = fleet_data(**changes)
    data["module"] = "../../modules/ssm-profile-" + name
    path = repo / "fleets" / name / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_one_atlantis_yaml_holds_every_fleet_and_the_teams_own_projects(two_fleets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = two_fleets
    prod = fleet_in(repo, "prod", atlantis={"workflow": "ssm", "apply_requirements": ["approved", "mergeable"], "execution_order_group": 2})
    dev = fleet_in(repo, "dev")
    team = (repo / "atlantis.yaml").read_text()
    assert run("fleet", str(prod), "-o", str(repo / "live/prod"))[0] == 0
    code, _, err = run("fleet", str(dev), "-o", str(repo / "live/dev"))
    assert code == 0, err
    text = (repo / "atlantis.yaml").read_text()
    assert text.startswith(team.split("  - name: network")[0])  # the team's lines, byte for byte
    assert "    dir: network  # our VPCs\n" in text
    config = yaml.safe_load(text)
    assert atlantis_problems(config) == []
    assert config["automerge"] is True
    by_name = {p["name"]: p for p in config["projects"]}
    assert set(by_name) == {"network"} | {f"ssm-profile/live/{f}/{a}" for f in ("prod", "dev") for a in ACCOUNTS}
    assert by_name["ssm-profile/live/prod/dev"] == {
        "name": "ssm-profile/live/prod/dev",
        "dir": "live/prod/dev",
        "autoplan": {"enabled": True, "when_modified": [
            "*.tf", "*.tf.json", ".terraform.lock.hcl", "../../../modules/ssm-profile-prod/**/*.tf*",
            "../../../fleets/prod/ssm-profile.toml", "../../../fleets/prod/prod.json",
        ]},
        "workflow": "ssm",
        "apply_requirements": ["approved", "mergeable"],
        "execution_order_group": 2,
    }
    assert set(by_name["ssm-profile/live/dev/prod"]) == {"name", "dir", "autoplan"}
    # every watched path exists, seen from the project's dir
    for project in config["projects"]:
        for pattern in project.get("autoplan", {}).get("when_modified", [])[3:]:
            assert list((repo / project["dir"]).glob(pattern)), pattern
    # regenerating one fleet keeps the other's projects; both are current; drift agrees
    assert run("fleet", str(dev), "-o", str(repo / "live/dev"))[0] == 0
    assert (repo / "atlantis.yaml").read_text() == text
    assert run("fleet", str(prod), "-o", str(repo / "live/prod"), "--check")[0] == 0
    monkeypatch.chdir(repo)
    code, _, err = run("drift")
    assert code == 0, err
    # a change to one fleet's [atlantis] makes the file stale for --check, and the write updates it
    fleet_in(repo, "prod", atlantis={"workflow": "other"})
    code, _, err = run("fleet", str(prod), "-o", str(repo / "live/prod"), "--check")
    assert code == 1 and "atlantis.yaml" in err
    assert run("fleet", str(prod), "-o", str(repo / "live/prod"))[0] == 0
    projects = yaml.safe_load((repo / "atlantis.yaml").read_text())["projects"]
    assert {p["name"]: p.get("workflow") for p in projects}["ssm-profile/live/prod/prod"] == "other"


def test_the_old_atlantis_yaml_inside_live_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "infra"
    shutil.copytree(EXAMPLES_DIR / "fleet", root)
    (root / ".git").mkdir()
    assert run("fleet", str(root / "fleet.toml"), "-o", str(root))[0] == 0  # LIVE at the repository root
    config = yaml.safe_load((root / "atlantis.yaml").read_text())
    assert atlantis_problems(config) == [] and [p["dir"] for p in config["projects"]] == ["prod", "staging", "dev"]


def test_the_same_state_in_two_fleets_is_exit_2_naming_both(two_fleets: Path) -> None:
    repo = two_fleets
    same = {"type": "s3", "bucket": "acme-terraform-state", "region": "us-east-1", "key": "ssm/{account}.tfstate"}
    assert run("fleet", str(fleet_in(repo, "prod", backend=same)), "-o", str(repo / "live/prod"))[0] == 0
    code, _, err = run("fleet", str(fleet_in(repo, "dev", backend=same)), "-o", str(repo / "live/dev"))
    assert code == 2 and err.count("\n") == 1, err
    assert "backend.key: account 'prod' would keep its state at s3://acme-terraform-state/ssm/prod.tfstate" in err
    assert "live/prod" in err and not (repo / "live/dev").exists()


# -- Terragrunt ------------------------------------------------------------------------------
# Block shapes from https://terragrunt.gruntwork.io/docs/reference/hcl/blocks/ : remote_state
# (backend, generate = { path, if_exists }, config), include "root" { path }; if_exists is one of
# overwrite, overwrite_terragrunt, skip, error.


def unquoted(value: Any) -> Any:
    """python-hcl2 keeps string quotes; compare values as Terraform reads them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {k: unquoted(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [unquoted(v) for v in value]
    return value


def test_terragrunt_files_parse_and_carry_the_same_backend(repo: Path) -> None:
    backend = {"type": "s3", "bucket": "acme-terraform-state", "region": "eu-west-1", "key": "ssm/{fleet}/{account}/state", "dynamodb_table": "locks",
               "use_lockfile": True, "encrypt": True, "kms_key_id": "alias/terraform", "assume_role": {"role_arn": "arn:aws:iam::999988887777:role/state", "session_name": "ci"}}
    assert run("fleet", str(write_fleet(repo, fleet_data(backend=backend))), "-o", str(repo / "live"))[0] == 0
    root = hcl2.loads((repo / "live/root.hcl").read_text())
    assert set(root) - {"__comments__"} == {"remote_state"}
    state = unquoted(root["remote_state"][0])
    assert set(state) == {"backend", "generate", "config"} and state["backend"] == "s3"
    assert set(state["generate"]) == {"path", "if_exists"} and state["generate"]["if_exists"] in {"overwrite", "overwrite_terragrunt", "skip", "error"}
    for name in ACCOUNTS:
        unit = hcl2.loads((repo / "live" / name / "terragrunt.hcl").read_text())
        assert set(unit) - {"__comments__"} == {"include"}
        assert unit["include"][0]['"root"']["path"] == '${find_in_parent_folders("root.hcl")}'
        # what Terragrunt would generate is what the root holds: the same backend, key resolved
        config = {**state["config"], "key": state["config"]["key"].replace("${path_relative_to_include()}", name)}
        written = unquoted(hcl2.loads((repo / "live" / name / state["generate"]["path"]).read_text())["terraform"][0]["backend"][0]['"s3"'])
        assert {**written, "assume_role": written["assume_role"][0]} == config
        assert config["key"] == f"ssm/fleet/{name}/state"


# -- HCP Terraform ---------------------------------------------------------------------------
# tfe_workspace arguments (https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/resources/workspace)
# and its vcs_repo block; workspace names are letters, numbers, '-' and '_', at most 90
# (https://developer.hashicorp.com/terraform/cloud-docs/workspaces/create).
TFE_WORKSPACE_ARGUMENTS = {
    "name", "organization", "description", "agent_pool_id", "allow_destroy_plan", "assessments_enabled", "auto_apply",
    "auto_apply_run_trigger", "auto_destroy_activity_duration", "auto_destroy_at", "execution_mode", "file_triggers_enabled",
    "force_delete", "global_remote_state", "ignore_additional_tag_names", "project_id", "queue_all_runs", "remote_state_consumer_ids",
    "source_name", "source_url", "speculative_enabled", "ssh_key_id", "structured_run_output_enabled", "tag_names", "tags",
    "terraform_version", "trigger_patterns", "trigger_prefixes", "vcs_repo", "working_directory",
}
TFE_VCS_REPO_ARGUMENTS = {"identifier", "branch", "ingress_submodules", "oauth_token_id", "github_app_installation_id", "tags_regex"}
WORKSPACE_NAME = re.compile(r"[A-Za-z0-9_-]{1,90}")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # Terraform identifiers (configuration syntax docs)


def hcp_fleet(repo: Path, **changes: Any) -> Path:
    data = fleet_data(engines=["hcp-terraform"], backend={"type": "cloud", "organization": "acme", "workspace_name": "ssm-{account}"}, **changes)
    base = data["accounts"][0]
    data["accounts"] = [
        {**base, "name": name, "id": f"1111222233{index:02d}", "role_arn": f"arn:aws:iam::1111222233{index:02d}:role/terraform-deployer"}
        for index, name in enumerate(["a-b", "a_b", "1st", "prod"])
    ]
    return write_fleet(repo, data)


def test_hcp_workspaces_are_vcs_driven_one_per_account(repo: Path) -> None:
    hcp = {"vcs_repo": {"identifier": "acme/infra", "branch": "main"}, "project": "Platform", "tags": ["team:platform"], "trigger_prefixes": ["shared/"]}
    code, _, err = run("fleet", str(hcp_fleet(repo, hcp_terraform=hcp)), "-o", str(repo / "live"))
    assert code == 0, err
    document = json.loads((repo / "live/workspaces.tf.json").read_text())
    workspaces = document["resource"]["tfe_workspace"]
    assert sorted(workspaces) == ["_1st", "a-b", "a_b", "prod"]  # a-b and a_b stay apart; a digit never leads
    assert all(IDENTIFIER.fullmatch(label) for label in workspaces)
    names = [w["name"] for w in workspaces.values()]
    assert sorted(names) == ["ssm-1st", "ssm-a-b", "ssm-a_b", "ssm-prod"] and all(WORKSPACE_NAME.fullmatch(n) for n in names)
    for label, workspace in workspaces.items():
        assert set(workspace) <= TFE_WORKSPACE_ARGUMENTS and set(workspace["vcs_repo"][0]) <= TFE_VCS_REPO_ARGUMENTS
        account = label.lstrip("_")
        assert workspace["working_directory"] == f"live/{account}"
        assert workspace["vcs_repo"] == [{"identifier": "acme/infra", "oauth_token_id": "${var.oauth_token_id}", "branch": "main"}]
        assert workspace["trigger_prefixes"] == sorted([f"live/{account}", "modules/ssm-profile", "ssm-profile.toml", "fleet.json", "shared/"])
        assert workspace["tag_names"] == ["ssm-profile", "team:platform"] and workspace["project_id"] == "${data.tfe_project.fleet.id}"
        assert workspace["organization"] == "acme"
        # the root's cloud block names the same workspace
        cloud = unquoted(hcl2.loads((repo / "live" / account / "backend.tf").read_text())["terraform"][0]["cloud"][0])
        assert cloud == {"organization": "acme", "workspaces": [{"name": workspace["name"]}]}
    assert document["variable"]["oauth_token_id"]["sensitive"] is True
    assert document["data"]["tfe_project"]["fleet"] == {"name": "Platform", "organization": "acme"}


@pytest.mark.terraform
def test_hcp_resource_names_are_identifiers_terraform_accepts(repo: Path, tmp_path: Path) -> None:
    """The tfe provider cannot be had offline, so Terraform validates the labels on its own
    terraform_data resource: the same labels, one resource each."""
    from plan_state import terraform

    assert run("fleet", str(hcp_fleet(repo)), "-o", str(repo / "live"))[0] == 0
    labels = json.loads((repo / "live/workspaces.tf.json").read_text())["resource"]["tfe_workspace"]
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {label: {"input": w["name"]} for label, w in labels.items()}}}))
    assert terraform(probe, "init", "-input=false", "-no-color").returncode == 0
    result = terraform(probe, "validate", "-no-color")
    assert result.returncode == 0, result.stderr


# -- what a team edits, and bad input ---------------------------------------------------------


def test_provider_settings_from_the_fleet_file(repo: Path) -> None:
    provider = {"default_tags": {"ManagedBy": "ssm-profile", "CostCenter": "platform"}, "ignore_tags": {"key_prefixes": ["kubernetes.io/"]},
                "max_retries": 5, "retry_mode": "adaptive", "session_name": "ssm-profile", "external_id": "acme-ci"}
    data = fleet_data(provider=provider)
    data["accounts"][0]["default_tags"] = {"Environment": "prod"}
    assert run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))[0] == 0
    providers = unquoted(hcl2.loads((repo / "live/prod/providers.tf").read_text())["provider"])
    assert len(providers) == 3  # the default provider and one per Region
    for provider_block in providers:
        aws = provider_block['"aws"']
        assert aws["default_tags"] == [{"tags": {"CostCenter": "platform", "Environment": "prod", "ManagedBy": "ssm-profile"}}]
        assert aws["ignore_tags"] == [{"key_prefixes": ["kubernetes.io/"]}]
        assert aws["assume_role"] == [{"role_arn": "arn:aws:iam::111122223333:role/terraform-deployer", "session_name": "ssm-profile", "external_id": "acme-ci"}]
        assert (aws["max_retries"], aws["retry_mode"]) == (5, "adaptive")
    staging = unquoted(hcl2.loads((repo / "live/staging/providers.tf").read_text())["provider"])
    assert staging[0]['"aws"']["default_tags"] == [{"tags": {"CostCenter": "platform", "ManagedBy": "ssm-profile"}}]


def test_the_teams_own_files_in_a_root_are_kept_and_never_complained_of(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = write_fleet(repo, fleet_data())
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    own = {"prod/extra.tf": '# ours\noutput "team" {\n  value = "platform"\n}\n', "prod/backend_override.tf": "# ours\n", "prod/.terraform.lock.hcl": "# ours\n"}
    for name, text in own.items():
        (repo / "live" / name).write_text(text)
    assert run("fleet", str(fleet), "-o", str(repo / "live"), "--check")[0] == 0
    assert run("fleet", str(fleet), "-o", str(repo / "live"))[0] == 0
    monkeypatch.chdir(repo)
    code, _, err = run("drift")
    assert code == 0, err
    assert all((repo / "live" / name).read_text() == text for name, text in own.items())


BAD_ENGINE_SETTINGS = [
    ({"backend": {"type": "s3", "region": "us-east-1"}}, 'backend.bucket: is required with type = "s3"'),
    ({"backend": {"type": "s3", "bucket": "Bad_Bucket", "region": "us-east-1"}}, "backend.bucket: 'Bad_Bucket' is not an S3 bucket name"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "key": "state/{fleet}.tfstate"}}, "backend.key: 'state/{fleet}.tfstate' must contain {account}"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "key": "{env}/{account}"}}, "backend.key: '{env}/{account}': the only placeholders are {fleet} and {account}"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "key": "${file(x)}/{account}"}}, "backend.key:"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "organization": "acme"}}, 'backend.organization: is not a setting of type = "s3"'),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "kms_key_id": "alias/x"}}, "backend.kms_key_id: needs encrypt = true"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "use_lockfile": False}}, "backend.use_lockfile: is false and no dynamodb_table is set"),
    ({"backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1", "role_arn": "arn:aws:iam::123456789012:role/a", "assume_role": {"role_arn": "arn:aws:iam::123456789012:role/a"}}}, "backend.role_arn: give the role once"),
    ({"backend": {"type": "cloud"}}, 'backend.organization: is required with type = "cloud"'),
    ({"backend": {"type": "cloud", "organization": "acme", "workspace_name": "x" * 90 + "{account}"}}, "backend.workspace_name:"),
    ({"backend": {"type": "none", "bucket": "b-1"}}, 'backend.bucket: is not a setting of type = "none"'),
    ({"engines": ["hcp-terraform"], "backend": {"type": "s3", "bucket": "b-1", "region": "us-east-1"}}, 'backend.type: "s3" cannot be used with the hcp-terraform engine'),
    ({"atlantis": {"apply_requirements": ["reviewed"]}}, "atlantis.apply_requirements[0]:"),
    ({"atlantis": {"workflow": "a b"}}, "atlantis.workflow: 'a b' is not a workflow name"),
    ({"atlantis": {"execution_order_group": "1"}}, "atlantis.execution_order_group:"),
    ({"atlantis": {"autoplan": True}}, "atlantis.autoplan: unknown field"),
    ({"hcp_terraform": {"vcs_repo": {"identifier": "infra"}}}, "hcp_terraform.vcs_repo.identifier: 'infra' is not ORGANIZATION/REPOSITORY"),
    ({"hcp_terraform": {"tags": ["Team"]}}, "hcp_terraform.tags[0]: 'Team' is not lowercase letters"),
    ({"hcp_terraform": {"trigger_prefixes": ["../outside"]}}, "hcp_terraform.trigger_prefixes[0]: '../outside' must be a path inside the repository"),
    ({"provider": {"default_tags": {"aws:x": "y"}}}, 'provider.default_tags["aws:x"]: the aws: prefix is reserved'),
    ({"provider": {"default_tags": {"Team": "${var.x}"}}}, 'provider.default_tags["Team"]: \'${var.x}\' is not a tag value'),
    ({"provider": {"retry_mode": "fast"}}, "provider.retry_mode: 'fast'; allowed: standard, adaptive"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_ENGINE_SETTINGS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_ENGINE_SETTINGS)])
def test_bad_engine_settings_are_exit_2_one_line_naming_the_field(repo: Path, changes: dict[str, Any], message: str) -> None:
    code, out, err = run("fleet", str(write_fleet(repo, fleet_data(**changes))), "-o", str(repo / "live"))
    assert code == 2, out
    assert err.startswith("ssm-profile: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not (repo / "live").exists() and not (repo / "atlantis.yaml").exists()


def test_vpc_endpoint_network_keys_are_the_specs_regions(repo: Path) -> None:
    data = json.loads(json.dumps(fleet_data()))  # each account its own network table
    network = data["accounts"][1]["inputs"]["vpc_endpoint_network"]
    network["us-west-2"] = network.pop("eu-west-1")
    code, _, err = run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))
    assert code == 2 and err.count("\n") == 1, err
    assert 'accounts[1].inputs["vpc_endpoint_network"]["us-west-2"]: is not a Region of the spec' in err and "allowed: us-east-1, eu-west-1" in err
    assert not (repo / "live").exists() and not (repo / "modules").exists()


@pytest.mark.terraform
def test_validate_and_plan_take_one_account_root_with_the_teams_own_files(repo: Path) -> None:
    """`validate live/prod` validates that root as written (the team's extra.tf included);
    `plan live/prod` plans the shared module with what that root passes it."""
    data = json.loads(json.dumps(fleet_data()))
    data["accounts"][0]["inputs"]["vpc_endpoint_network"]["us-east-1"]["vpc_id"] = "vpc-0feedfacecafe0001"
    assert run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))[0] == 0
    (repo / "live/prod/extra.tf").write_text('output "team" {\n  value = module.ssm_profile\n}\n')
    code, out, err = run("validate", str(repo / "live/prod"))
    assert code == 0, err
    assert out.startswith(f"{repo / 'live/prod'}: 1 account root valid")
    (repo / "live/prod/broken.tf").write_text('output "broken" {\n  value = module.nothing_here\n}\n')
    code, _, err = run("validate", str(repo / "live/prod"))
    assert code == 3 and "nothing_here" in err, err
    (repo / "live/prod/broken.tf").unlink()
    code, out, err = run("plan", "--offline", str(repo / "live/prod"))
    assert code == 0, err
    assert out.startswith(f"{repo / 'live/prod'}: plan ok: ") and "module.ssm_profile.aws_iam_role.this" in out
    code, _, err = run("plan", "--offline", "--json", str(repo / "plan.json"), str(repo / "live/prod"))
    assert code == 0, err
    planned = json.loads((repo / "plan.json").read_text())["planned_values"]["root_module"]["child_modules"][0]["resources"]
    endpoints = [r["values"] for r in planned if r["type"] == "aws_vpc_endpoint"]
    assert endpoints and {e["vpc_id"] for e in endpoints if e["service_name"].startswith("com.amazonaws.us-east-1.")} == {"vpc-0feedfacecafe0001"}
    assert any("111122223333" in json.dumps(r["values"]) for r in planned if r["type"] == "aws_iam_role")  # account_id reached the trust
    code, _, err = run("plan", "--offline", str(repo / "live/prod"), str(repo / "modules/ssm-profile"))
    assert code == 2 and "plan fleet roots apart from modules" in err


def test_atlantis_yaml_merges_keep_every_line_of_the_team() -> None:
    from ssm_profile.fleet.atlantis_file import BEGIN_MARK, END_MARK, atlantis_text

    projects = [{"name": "ssm-profile/live/a", "dir": "live/a"}]
    team = "version: 3\nworkflows:\n  ssm: {}\n"  # no projects: key yet
    merged = atlantis_text(team, projects, "h")
    assert merged is not None and merged.startswith(team) and yaml.safe_load(merged)["projects"] == projects
    indented = "version: 3\nprojects:\n  # ours\n  - name: net\n    dir: net\n"
    merged = atlantis_text(indented, projects, "h")
    assert merged is not None and f"  {BEGIN_MARK}\n  - name: ssm-profile/live/a\n" in merged and merged.endswith("  - name: net\n    dir: net\n")
    assert atlantis_text(merged, projects, "h") == merged  # stable
    emptied = atlantis_text(merged, [], "h")
    assert emptied is not None and f"  {BEGIN_MARK}\n  {END_MARK}\n" in emptied and yaml.safe_load(emptied)["projects"] == [{"name": "net", "dir": "net"}]
    assert atlantis_text("version: 2\nprojects: []\n", [], "h") == "version: 2\nprojects: []\n"  # not ours: untouched
    for text, message in [("version: 3\nprojects: []\n", "inline"), ("version: 2\n", "version: 3"), (f"{END_MARK}\n{BEGIN_MARK}\n", "out of order")]:
        with pytest.raises(SpecError, match=message):
            atlantis_text(text, projects, "h")
    with pytest.raises(SpecError, match="two projects are named 'ssm-profile/live/a'"):
        atlantis_text("version: 3\nprojects:\n- name: ssm-profile/live/a\n  dir: x\n", projects, "h")


def test_plan_of_live_plans_each_root_with_its_accounts_inputs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`plan LIVE`: one plan per account root, each of the shared module with that account's
    inputs (the real plan of one root runs in the terraform test above)."""
    from ssm_profile import CheckFailed
    from ssm_profile.terraform import module_runs

    data = json.loads(json.dumps(fleet_data()))
    for index, account in enumerate(data["accounts"]):
        account["inputs"]["vpc_endpoint_network"]["us-east-1"]["vpc_id"] = f"vpc-0feedfacecafe000{index}"
    assert run("fleet", str(write_fleet(repo, data)), "-o", str(repo / "live"))[0] == 0
    calls: list[tuple[list[Path], dict[str, Any]]] = []

    def planned(modules: list[Path], runner: Any, **options: Any) -> list[Any]:
        calls.append((modules, options["inputs"]))
        return [module_runs.ModuleResult(modules[0], CheckFailed("not planned here"))]

    monkeypatch.setattr(module_runs, "plan_modules", planned)
    code, out, _ = run("plan", "--offline", str(repo / "live"))
    assert code == 1 and out.count("FAILED: not planned here") == 3
    assert [c[0] for c in calls] == [[(repo / "modules/ssm-profile").resolve()]] * 3
    assert [(c[1]["account_id"], c[1]["vpc_endpoint_network"]["us-east-1"]["vpc_id"]) for c in calls] == [
        (id, f"vpc-0feedfacecafe000{index}") for index, id in enumerate(ACCOUNTS.values())
    ]
    assert [line.split(":")[0] for line in out.splitlines()] == [str(repo / "live" / name) for name in ACCOUNTS]
