"""Versioned releases: inventory diffing, moved-block detection, the release record, the CLI,
and a real Terraform plan proving a release with a changed address upgrades without destroy."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, MODULES, run
from plan_state import plan_offline, state_from_plan
from ssm_profile import generate, write_module
from ssm_profile.errors import OutputError, SpecError
from ssm_profile.release.changes import diff_releases
from ssm_profile.release.inventory import detect_moves, grant_pairs, inventory
from ssm_profile.release.publish import (
    RELEASE_FILE,
    Move,
    ReleaseRecord,
    accumulate_moves,
    read_release_record,
    release_record,
)
from ssm_profile.release.versions import Version

CORE_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def spec(**sections: Any) -> dict[str, Any]:
    """A small spec: one Region, the role ``RelRole``, the hybrid service role on."""
    data: dict[str, Any] = {"version": 1, "regions": ["us-east-2"], "role": {"name": "RelRole"}, "hybrid": {"enabled": True}}
    data.update(sections)
    return data


V1 = spec()
# A second managed policy: the hybrid role's only attachment `hybrid` becomes `hybrid_instance_core`.
V2 = spec(managed_policies={"cloudwatch_agent": True})


def release_of(data: dict[str, Any], previous: ReleaseRecord | None, format: str = "hcl", **choice: str):
    """The record and assessment of releasing ``data`` after ``previous`` (``version=`` or ``bump=``)."""
    plain = generate(data, format=format)
    return release_record(plain.document, plain.grants, format=format, previous=previous, **choice)


def released(data: dict[str, Any], version: str, previous: ReleaseRecord | None = None, format: str = "hcl"):
    record, assessment = release_of(data, previous, format, version=version)
    return generate(data, format=format, release=record), record, assessment.changes


# -- Inventory and identity ---------------------------------------------------------------------


def test_inventory_lists_every_resource_with_its_identity() -> None:
    resources = inventory(generate(V1).document)
    assert list(resources) == [
        "aws_iam_instance_profile.this",
        "aws_iam_role.hybrid",
        "aws_iam_role.this",
        "aws_iam_role_policy_attachment.hybrid",
        "aws_iam_role_policy_attachment.instance_core",
    ]
    # References resolve to the referenced resource's literal attribute: the role's name.
    assert dict(resources["aws_iam_role_policy_attachment.hybrid"].identity) == {"role": "SSMServiceRole", "policy_arn": CORE_ARN}
    assert dict(resources["aws_iam_role_policy_attachment.instance_core"].identity) == {"role": "RelRole", "policy_arn": CORE_ARN}
    assert dict(resources["aws_iam_role.this"].identity) == {"name": "RelRole"}


def test_identity_of_a_computed_reference_names_the_referenced_resource() -> None:
    resources = inventory(generate(spec(s3={"buckets": [{"name": "doc-example-bucket"}]})).document)
    identity = dict(resources["aws_iam_role_policy_attachment.s3"].identity)
    assert identity == {"role": "RelRole", "policy_arn": "aws_iam_policy[name=SSMInstanceProfileS3Policy].arn"}


def test_regional_identities_are_service_name_and_setting_id() -> None:
    data = spec(
        regions=["us-east-2", "eu-west-1"],
        s3={"vpc_endpoint": True},
        vpc_endpoints={"enabled": True},
        default_host_management={"enabled": True},
    )
    resources = inventory(generate(data).document)
    assert dict(resources["aws_vpc_endpoint.ssm_eu_west_1"].identity) == {"service_name": "com.amazonaws.eu-west-1.ssm"}
    setting = dict(resources["aws_ssm_service_setting.default_host_management_us_east_2"].identity)["setting_id"]
    assert ":ssm:us-east-2:" in setting and setting.endswith("default-ec2-instance-management-role")


def test_inventory_is_the_same_for_hcl_and_json() -> None:
    assert inventory(generate(EXAMPLES["multi-region-full"]).document) == inventory(
        generate(EXAMPLES["multi-region-full"], format="json").document
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_releasing_an_unchanged_spec_again_changes_nothing(name: str) -> None:
    _, first, changes = released(EXAMPLES[name], "0.1.0")
    assert changes.first and len(changes.added) == len(first.inventory) > 0
    _, second, again = released(EXAMPLES[name], "0.1.1", first)
    assert again.is_empty and second.moved == ()
    assert second.changelog[0].lines == ("No change to the generated resources, grants or interface (its README or tests may differ).",)


# -- Diffing and moved blocks -------------------------------------------------------------------


def test_a_second_managed_policy_moves_the_hybrid_attachment() -> None:
    _, v1, _ = released(V1, "1.0.0")
    module, v2, changes = released(V2, "1.1.0", v1)
    assert changes.moved == (("aws_iam_role_policy_attachment.hybrid", "aws_iam_role_policy_attachment.hybrid_instance_core", ()),)
    assert changes.added == ("aws_iam_role_policy_attachment.cloudwatch_agent", "aws_iam_role_policy_attachment.hybrid_cloudwatch_agent")
    assert changes.removed == () and changes.changed == ()
    assert v2.moved == (Move("aws_iam_role_policy_attachment.hybrid", "aws_iam_role_policy_attachment.hybrid_instance_core", "1.1.0"),)
    assert module.files["moved.tf"].endswith(
        "moved {\n  from = aws_iam_role_policy_attachment.hybrid\n  to   = aws_iam_role_policy_attachment.hybrid_instance_core\n}\n"
    )


def test_moves_are_detected_only_for_addresses_gone_and_unambiguous_identities() -> None:
    old = inventory(generate(V1).document)
    new = inventory(generate(V2).document)
    assert detect_moves(old, new) == [("aws_iam_role_policy_attachment.hybrid", "aws_iam_role_policy_attachment.hybrid_instance_core")]
    assert detect_moves(new, old) == [("aws_iam_role_policy_attachment.hybrid_instance_core", "aws_iam_role_policy_attachment.hybrid")]
    # Same identity twice among the new addresses: no guess.
    twin = {**new, "aws_iam_role_policy_attachment.twin": new["aws_iam_role_policy_attachment.hybrid_instance_core"]}
    assert detect_moves(old, twin) == []


def test_a_renamed_role_is_a_change_of_identity_not_a_move() -> None:
    _, v1, _ = released(V1, "1.0.0")
    _, _, changes = released(spec(role={"name": "OtherRole"}), "2.0.0", v1)
    assert changes.moved == () and changes.added == () and changes.removed == ()
    changed = {address: (attributes, replaced) for address, attributes, replaced in changes.changed}
    assert changed["aws_iam_role.this"] == (("name",), True)
    assert changed["aws_iam_role_policy_attachment.instance_core"] == (("role",), True)
    assert changed["aws_iam_instance_profile.this"][1] is True


def test_grant_changes_are_action_resource_pairs_per_policy() -> None:
    one = spec(s3={"buckets": [{"name": "bucket-a"}]})
    two = spec(s3={"buckets": [{"name": "bucket-a", "encrypted": True}, {"name": "bucket-b"}]})
    _, v1, first = released(one, "1.0.0")
    assert first.grants_added == {"SSMInstanceProfileS3Policy": grant_pairs(generate(one).grants)["SSMInstanceProfileS3Policy"]}
    _, v2, changes = released(two, "1.1.0", v1)
    assert changes.grants_added == {
        "SSMInstanceProfileS3Policy": (
            "s3:GetEncryptionConfiguration arn:aws:s3:::bucket-a",
            "s3:GetObject arn:aws:s3:::bucket-b/*",
            "s3:PutObject arn:aws:s3:::bucket-b/*",
        )
    }
    assert changes.grants_removed == {}
    assert ("aws_iam_policy.s3", ("policy",), False) in changes.changed
    lines = v2.changelog[0].lines
    assert "- `SSMInstanceProfileS3Policy`: added `s3:GetObject` on `arn:aws:s3:::bucket-b/*`" in lines
    assert "- `aws_iam_policy.s3`: policy" in lines
    _, _, back = released(one, "2.0.0", v2)
    assert back.grants_removed == changes.grants_added and back.grants_added == {}


def test_removed_resources_are_listed() -> None:
    _, v1, _ = released(V1, "1.0.0")
    _, _, changes = released(spec(hybrid={"enabled": False}), "2.0.0", v1)
    assert changes.removed == ("aws_iam_role.hybrid", "aws_iam_role_policy_attachment.hybrid")


def test_moved_blocks_accumulate_and_a_move_back_drops_the_old_block() -> None:
    _, v1, _ = released(V1, "1.0.0")
    _, v2, _ = released(V2, "1.1.0", v1)
    _, v3, _ = released(V2, "1.2.0", v2)
    assert v3.moved == v2.moved, "kept for consumers still on 1.0.0"
    _, v4, changes = released(V1, "2.0.0", v3)
    # Back to one policy: `hybrid` is declared again, so the old block would be an error in Terraform.
    assert changes.moved == (("aws_iam_role_policy_attachment.hybrid_instance_core", "aws_iam_role_policy_attachment.hybrid", ()),)
    assert v4.moved == (Move("aws_iam_role_policy_attachment.hybrid_instance_core", "aws_iam_role_policy_attachment.hybrid", "2.0.0"),)


def test_accumulated_moves_keep_chains_and_drop_conflicts() -> None:
    a_b, b_c = Move("t.a", "t.b", "1.1.0"), Move("t.b", "t.c", "1.2.0")
    assert accumulate_moves((a_b,), (b_c,), {"t.c"}) == (a_b, b_c)
    assert accumulate_moves((a_b,), (Move("t.x", "t.b", "1.2.0"),), {"t.b"}) == (Move("t.x", "t.b", "1.2.0"),)
    assert accumulate_moves((a_b,), (Move("t.a", "t.z", "1.2.0"),), {"t.z"}) == (Move("t.a", "t.z", "1.2.0"),)


def test_diff_of_the_first_release_adds_everything() -> None:
    resources = inventory(generate(V1).document)
    changes = diff_releases(None, {}, resources, {})
    assert changes.first and changes.added == tuple(resources) and changes.moved == ()


# -- Versions and the record --------------------------------------------------------------------


@pytest.mark.parametrize(
    "lower, higher",
    [("1.0.0", "1.0.1"), ("1.9.0", "1.10.0"), ("1.0.0-rc.1", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"),
     ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("0.9.9", "1.0.0-0")],
)
def test_versions_follow_semver_precedence(lower: str, higher: str) -> None:
    assert Version.parse(lower) < Version.parse(higher)
    assert not Version.parse(higher) <= Version.parse(lower)


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "", "latest", "1.0.0-", "1.0.0-01"])
def test_bad_versions_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError, match=r"^--version: .* is not a semantic version"):
        Version.parse(text)


def test_a_release_must_be_greater_than_the_last() -> None:
    _, v1, _ = released(V1, "1.0.0")
    for version in ("1.0.0", "0.9.0", "1.0.0-rc.1", "1.0.0+build.5"):
        with pytest.raises(SpecError, match=re.escape("is not greater than the last release 1.0.0")):
            release_of(V1, v1, version=version)


def test_the_record_round_trips_and_generate_reproduces_the_release() -> None:
    module, record, _ = released(V2, "1.1.0", released(V1, "1.0.0")[1])
    assert ReleaseRecord.from_json(record.to_json()) == record
    assert module.files[RELEASE_FILE] == record.to_json()
    assert module.manifest.module_version == "1.1.0"
    assert "Module version **1.1.0**" in module.files["README.md"]
    changelog = module.files["CHANGELOG.md"]
    assert changelog.index("## 1.1.0") < changelog.index("## 1.0.0")
    assert generate(V2, release=record).files == module.files
    plain = generate(V2)
    assert {"moved.tf", "CHANGELOG.md", RELEASE_FILE} & set(plain.files) == set()
    assert plain.manifest.module_version is None and "module_version" not in plain.files[".ssm-profile.json"] and "Module version" not in plain.files["README.md"]


def test_json_format_writes_moved_blocks_as_a_list() -> None:
    module, _, _ = released(V2, "1.1.0", released(V1, "1.0.0", format="json")[1], format="json")
    moved = json.loads(module.files["moved.tf.json"])["moved"]
    assert moved == [{"from": "aws_iam_role_policy_attachment.hybrid", "to": "aws_iam_role_policy_attachment.hybrid_instance_core"}]


@pytest.mark.parametrize("text", ["{", "[]", '{"format": 1}', '{"format": 2, "version": "1.0.0"}'])
def test_a_malformed_record_is_an_output_error(tmp_path: Path, text: str) -> None:
    (tmp_path / RELEASE_FILE).write_text(text)
    with pytest.raises(OutputError, match="not a valid release record"):
        read_release_record(tmp_path)


# -- The CLI ------------------------------------------------------------------------------------



def toml(data: dict[str, Any]) -> str:
    lines = [f"version = {data['version']}", f"regions = {json.dumps(data['regions'])}"]
    for section in ("role", "managed_policies", "hybrid"):
        if section in data:
            lines.append(f"[{section}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in data[section].items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def module_dir(tmp_path: Path) -> Path:
    (tmp_path / "spec.toml").write_text(toml(V1))
    assert run("generate", str(tmp_path / "spec.toml"), "-o", str(tmp_path / "mod"))[0] == 0
    return tmp_path / "mod"


def test_release_then_generate_check_is_clean(module_dir: Path) -> None:
    spec_file = module_dir.parent / "spec.toml"
    code, out, err = run("release", str(module_dir), "--version", "1.0.0")
    assert (code, err) == (0, "") and "released 1.0.0" in out
    assert run("generate", str(spec_file), "-o", str(module_dir), "--check")[0] == 0
    spec_file.write_text(toml(V2))
    assert run("generate", str(spec_file), "-o", str(module_dir), "--check")[0] == 1
    code, out, _ = run("release", str(module_dir), "--version", "1.1.0")
    assert code == 0 and "1 moved" in out
    assert run("generate", str(spec_file), "-o", str(module_dir), "--check") == (0, f"{module_dir}: up to date\n", "")
    # Regenerating keeps the release: the moved block, the changelog, the stamp.
    assert run("generate", str(spec_file), "-o", str(module_dir))[0] == 0
    assert (module_dir / "moved.tf").is_file() and "## 1.1.0" in (module_dir / "CHANGELOG.md").read_text()
    assert json.loads((module_dir / ".ssm-profile.json").read_text())["module_version"] == "1.1.0"


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "1.0.0.0", "01.0.0", "", "latest"])
def test_bad_version_is_exit_2_one_line_and_writes_nothing(module_dir: Path, version: str) -> None:
    before = {p.name: p.read_bytes() for p in module_dir.iterdir() if p.is_file()}
    code, out, err = run("release", str(module_dir), "--version", version)
    assert code == 2 and out == ""
    assert err.startswith("ssm-profile: error: --version: ") and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in module_dir.iterdir() if p.is_file()} == before


def test_version_not_greater_is_exit_2(module_dir: Path) -> None:
    assert run("release", str(module_dir), "--version", "1.0.0")[0] == 0
    code, _, err = run("release", str(module_dir), "--version", "0.9.0")
    assert (code, err) == (2, "ssm-profile: error: --version: 0.9.0 is not greater than the last release 1.0.0\n")


def test_release_of_a_folder_that_is_not_a_module_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("release", str(tmp_path), "--version", "1.0.0")
    assert code == 2 and "not a module generated by ssm-profile" in err and err.count("\n") == 1


def test_release_needs_the_spec_the_manifest_names(module_dir: Path) -> None:
    (module_dir.parent / "spec.toml").rename(module_dir.parent / "moved-away.toml")
    code, _, err = run("release", str(module_dir), "--version", "1.0.0")
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_release_refuses_hand_edits_and_foreign_changelogs(module_dir: Path) -> None:
    (module_dir / "CHANGELOG.md").write_text("# my notes\n")
    code, _, err = run("release", str(module_dir), "--version", "1.0.0")
    assert code == 2 and "CHANGELOG.md exists and was not generated" in err
    (module_dir / "CHANGELOG.md").unlink()
    assert run("release", str(module_dir), "--version", "1.0.0")[0] == 0
    changelog = module_dir / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "edited\n")
    code, _, err = run("release", str(module_dir), "--version", "1.0.1")
    assert code == 2 and "CHANGELOG.md edited by hand" in err
    assert run("release", str(module_dir), "--version", "1.0.1", "--force")[0] == 0


def test_a_malformed_record_is_exit_2(module_dir: Path) -> None:
    (module_dir / RELEASE_FILE).write_text("{}")
    code, _, err = run("generate", str(module_dir.parent / "spec.toml"), "-o", str(module_dir))
    assert code == 2 and "not a valid release record" in err and err.count("\n") == 1


def test_release_keeps_the_modules_format(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(toml(V1))
    assert run("generate", str(tmp_path / "spec.toml"), "-o", str(tmp_path / "mod"), "--format", "json")[0] == 0
    assert run("release", str(tmp_path / "mod"), "--version", "0.1.0")[0] == 0
    assert (tmp_path / "mod" / "main.tf.json").is_file() and not (tmp_path / "mod" / "main.tf").exists()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_committed_example_modules_are_released(name: str) -> None:
    record = read_release_record(MODULES / name)
    assert record is not None, f"modules/{name} has no release; run: make release EXAMPLE={name} VERSION=0.1.0"
    assert record.inventory == inventory(generate(EXAMPLES[name]).document), f"modules/{name}: the spec changed since {record.version}"


# -- Real Terraform: a release with a changed address plans with no destroy ----------------------

@pytest.fixture(scope="module")
def v1_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A state as if release 1.0.0 of V1 had been applied (one real offline plan, shared)."""
    module = tmp_path_factory.mktemp("v1") / "mod"
    write_module(released(V1, "1.0.0")[0], module)
    return state_from_plan(plan_offline(module))


@pytest.mark.terraform
def test_a_release_with_a_changed_address_plans_with_no_destroy(tmp_path: Path, v1_state: dict[str, Any]) -> None:
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(toml(V1))
    module = tmp_path / "mod"
    assert run("generate", str(spec_file), "-o", str(module))[0] == 0
    assert run("release", str(module), "--version", "1.0.0")[0] == 0
    state = v1_state
    assert "module.ssm_profile" in {r["module"] for r in state["resources"]}
    assert {(r["type"], r["name"]) for r in state["resources"]} >= {("aws_iam_role_policy_attachment", "hybrid")}

    spec_file.write_text(toml(V2))
    code, out, err = run("release", str(module), "--version", "1.1.0")
    assert (code, err) == (0, ""), out
    entry = (module / "CHANGELOG.md").read_text().split("## 1.0.0")[0]
    assert "## 1.1.0" in entry
    assert (
        "- `aws_iam_role_policy_attachment.hybrid` → `aws_iam_role_policy_attachment.hybrid_instance_core`: "
        "a `moved` block in `moved.tf` keeps the object (no destroy/create)"
    ) in entry
    assert "- `aws_iam_role_policy_attachment.hybrid_cloudwatch_agent`" in entry
    assert "moved {" in (module / "moved.tf").read_text()

    changes = planned_upgrade(module, state)
    created = sorted(a for a, c in changes.items() if c["change"]["actions"] == ["create"])
    assert created == [
        "module.ssm_profile.aws_iam_role_policy_attachment.cloudwatch_agent",
        "module.ssm_profile.aws_iam_role_policy_attachment.hybrid_cloudwatch_agent",
    ]
    # The state is realistic: v1's other resources stay in place. (Roles and the profile show an
    # in-place update: tags_all and managed_policy_arns are computed, unknown without a refresh.)
    kept = {a: c["change"]["actions"] for a, c in changes.items() if a not in created and c["mode"] == "managed"}
    assert len(kept) == len(state["resources"]) and set(map(tuple, kept.values())) <= {("no-op",), ("update",)}, kept


def planned_upgrade(module: Path, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resource changes of planning ``module`` (V2, released after V1) against V1's ``state``,
    checked for what every such upgrade must show: no destroy, and the renamed attachment moved."""
    changes = {c["address"]: c for c in plan_offline(module, state)["resource_changes"]}
    deletes = [address for address, c in changes.items() if "delete" in c["change"]["actions"]]
    assert deletes == [], f"v1.1.0 would destroy {deletes}"
    moved = changes["module.ssm_profile.aws_iam_role_policy_attachment.hybrid_instance_core"]
    assert moved["previous_address"] == "module.ssm_profile.aws_iam_role_policy_attachment.hybrid"
    assert moved["change"]["actions"] == ["no-op"]
    return changes


@pytest.mark.terraform
def test_a_json_release_with_moved_blocks_plans_the_move(tmp_path: Path, v1_state: dict[str, Any]) -> None:
    # Terraform JSON spells `moved` differently (a list of {from, to} with bare references):
    # the same upgrade, planned from the JSON module, moves the same object.
    module, _, _ = released(V2, "1.1.0", released(V1, "1.0.0", format="json")[1], format="json")
    write_module(module, tmp_path / "mod")
    assert "moved" in json.loads((tmp_path / "mod" / "moved.tf.json").read_text())
    changes = planned_upgrade(tmp_path / "mod", v1_state)
    assert {a for a, c in changes.items() if c["change"]["actions"] == ["create"]} == {
        "module.ssm_profile.aws_iam_role_policy_attachment.cloudwatch_agent",
        "module.ssm_profile.aws_iam_role_policy_attachment.hybrid_cloudwatch_agent",
    }


def test_the_changelog_names_each_tag_changed_and_how(tmp_path: Path) -> None:
    # Issue 25: "tags" changed is not enough for a reviewer; the entry names the keys and values.
    spec_path, out = tmp_path / "prod.toml", tmp_path / "modules" / "prod"
    role = '[role]\nname = "RelRole"\n'
    spec_path.write_text(f'version = 1\nregions = ["us-east-2"]\n{role}tags = {{ Team = "platform", CostCenter = "1234" }}\n', encoding="utf-8")
    assert run("generate", str(spec_path), "-o", str(out))[0] == 0
    assert run("release", str(out), "--version", "1.0.0")[0] == 0
    spec_path.write_text(f'version = 1\nregions = ["us-east-2"]\n{role}tags = {{ Team = "ops", Owner = "sre" }}\n', encoding="utf-8")
    code, said, err = run("release", str(out), "--bump", "auto")
    assert code == 0, err
    assert said.startswith(f"{out}: released 1.0.1: patch change")
    entry = (out / "CHANGELOG.md").read_text(encoding="utf-8").split("## 1.0.0")[0]
    how = 'tags (Team "platform" -> "ops"; Owner = "sre" added; CostCenter removed (was "1234"))'
    assert f"- `aws_iam_role.this`: {how}\n" in entry, entry
