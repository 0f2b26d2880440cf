"""The semver level of a release, derived from what changed (issue 14), and the versions it allows.

The expected levels come from the issue's rules, written before the code: major when a
caller's unchanged root breaks or loses something, minor when only things are added, patch for
in-place updates. The real-Terraform proofs for a Region added or removed are in
test_release_upgrade.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, MODULES, run
from ssm_profile import generate, release_module, write_module
from ssm_profile.errors import CheckFailed, OutputError, SpecError
from ssm_profile.release.interface import Input, Interface, interface_reasons, module_interface
from ssm_profile.release.publish import (
    RELEASE_FILE,
    ReleaseRecord,
    assess_release,
    choose_version,
    read_release_record,
    release_record,
)
from ssm_profile.release.versions import Level, Version, allows, next_version


def spec(**changes: Any) -> dict[str, Any]:
    """Two Regions with VPC endpoints, the hybrid role and one bucket; ``changes`` replace whole sections."""
    data: dict[str, Any] = {
        "version": 1,
        "regions": ["us-east-2", "eu-west-1"],
        "role": {"name": "LevelRole", "description": "Instances managed by Systems Manager", "tags": {"Team": "platform"}},
        "hybrid": {"enabled": True},
        "s3": {"vpc_endpoint": True, "agent_buckets": "seed", "buckets": [{"name": "bucket-a"}]},
        "vpc_endpoints": {"enabled": True, "services": ["ssm", "ssmmessages"]},
    }
    data.update(changes)
    return data


BASE = spec()
S3 = BASE["s3"]
ROLE = BASE["role"]
# Only the S3 policy depends on the Regions: no regional resources, no provider aliases.
S3_ONLY = {"version": 1, "regions": ["us-east-2"], "s3": {"vpc_endpoint": True, "agent_buckets": "seed"}}
# The hybrid role's only managed policy attachment is `hybrid`; with a second managed policy it
# becomes `hybrid_instance_core` (same role, same policy ARN): a moved block keeps the object.
HYBRID = {"version": 1, "regions": ["us-east-2"], "role": {"name": "LevelRole"}, "hybrid": {"enabled": True}}
HYBRID_CW = {**HYBRID, "managed_policies": {"cloudwatch_agent": True}}

# (name, old spec, new spec, expected level)
TABLE = [
    ("nothing changed", BASE, BASE, Level.PATCH),
    ("Region added (new provider alias, new network key)", BASE, spec(regions=["us-east-2", "eu-west-1", "ap-southeast-2"]), Level.MAJOR),
    ("Region removed (its endpoints destroyed, alias gone)", BASE, spec(regions=["us-east-2"]), Level.MAJOR),
    ("Region added, only S3 agent buckets depend on it", S3_ONLY, {**S3_ONLY, "regions": ["us-east-2", "eu-west-1"]}, Level.MINOR),
    ("Region removed, only S3 agent buckets depend on it (grants removed)", {**S3_ONLY, "regions": ["us-east-2", "eu-west-1"]}, S3_ONLY, Level.MAJOR),
    ("interface endpoint service added", BASE, spec(vpc_endpoints={"enabled": True, "services": ["ssm", "ssmmessages", "ec2messages"]}), Level.MINOR),
    ("interface endpoint service removed", spec(vpc_endpoints={"enabled": True, "services": ["ssm", "ssmmessages", "ec2messages"]}), BASE, Level.MAJOR),
    # The S3 gateway endpoint needs route tables: a new validation callers may fail (route_table_ids defaults to []).
    ("S3 gateway endpoint added", BASE, spec(vpc_endpoints={"enabled": True, "services": ["ssm", "ssmmessages", "s3"]}), Level.MAJOR),
    ("managed policy on", BASE, spec(managed_policies={"cloudwatch_agent": True}), Level.MINOR),
    ("managed policy off", spec(managed_policies={"cloudwatch_agent": True}), BASE, Level.MAJOR),
    ("managed policy on, the hybrid attachment readdressed with a moved block", HYBRID, HYBRID_CW, Level.MINOR),
    ("managed policy off, the hybrid attachment moved back", HYBRID_CW, HYBRID, Level.MAJOR),
    ("Default Host Management on (new outputs, a setting per Region)", BASE, spec(default_host_management={"enabled": True}), Level.MINOR),
    # The hybrid role's trust policy names the account: `account_id` becomes a required input.
    ("hybrid role on (new required input account_id)", spec(hybrid={"enabled": False}), BASE, Level.MAJOR),
    ("bucket added", BASE, spec(s3={**S3, "buckets": [{"name": "bucket-a"}, {"name": "bucket-b"}]}), Level.MINOR),
    ("bucket removed", spec(s3={**S3, "buckets": [{"name": "bucket-a"}, {"name": "bucket-b"}]}), BASE, Level.MAJOR),
    ("cross-account flag on (adds s3:PutObjectAcl)", BASE, spec(s3={**S3, "buckets": [{"name": "bucket-a", "cross_account": True}]}), Level.MINOR),
    ("cross-account flag off (removes s3:PutObjectAcl)", spec(s3={**S3, "buckets": [{"name": "bucket-a", "cross_account": True}]}), BASE, Level.MAJOR),
    ("role description changed (in place)", BASE, spec(role={**ROLE, "description": "Fleet of web servers"}), Level.PATCH),
    ("tag changed (in place)", BASE, spec(role={**ROLE, "tags": {"Team": "infra"}}), Level.PATCH),
    ("hybrid role renamed (a new name is a new IAM role; no moved block can carry it)", BASE, spec(hybrid={"enabled": True, "role_name": "HybridRole"}), Level.MAJOR),
    ("role path changed (IAM cannot move a role)", BASE, spec(role={**ROLE, "path": "/ssm/"}), Level.MAJOR),
    # `[module] variables` (caller-defined inputs) does not exist yet: no row for it.
]


def record_of(data: dict[str, Any], version: str = "1.0.0", previous: ReleaseRecord | None = None) -> ReleaseRecord:
    module = generate(data)
    return release_record(module.document, module.grants, format="hcl", previous=previous, version=version)[0]


def assessment(old: dict[str, Any], new: dict[str, Any], version: str = "1.0.0"):
    module = generate(new)
    return assess_release(module.document, module.grants, record_of(old, version))


@pytest.mark.parametrize("old, new, level", [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_the_level_of_a_spec_change(old: dict[str, Any], new: dict[str, Any], level: Level) -> None:
    result = assessment(old, new)
    assert result.level is level, [reason.line() for reason in result.reasons]
    assert bool(result.breaking) is (level is Level.MAJOR)
    assert all(reason.step for reason in result.breaking), "every breaking reason says what a caller does"


def lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [reason.line() for reason in assessment(old, new).reasons]


def test_a_region_added_names_the_alias_and_the_network_key() -> None:
    reasons = lines(BASE, spec(regions=["us-east-2", "eu-west-1", "ap-southeast-2"]))
    assert "major: new provider alias aws.ap_southeast_2 (callers must pass it)" in reasons
    assert "major: input vpc_endpoint_network needs a new key ap-southeast-2 (callers must add it)" in reasons
    assert not any("validation" in line for line in reasons), "the key-list check is explained by the key"
    assert "minor: new resource aws_vpc_endpoint.ssm_ap_southeast_2" in reasons


def test_a_region_removed_names_every_destroyed_resource() -> None:
    reasons = lines(BASE, spec(regions=["us-east-2"]))
    assert "major: provider alias aws.eu_west_1 removed (the module no longer uses eu-west-1)" in reasons
    destroyed = sorted(line for line in reasons if line.endswith("destroyed (no moved block carries it over)"))
    assert destroyed == [
        "major: aws_vpc_endpoint.ssm_eu_west_1 destroyed (no moved block carries it over)",
        "major: aws_vpc_endpoint.ssmmessages_eu_west_1 destroyed (no moved block carries it over)",
    ]
    assert any(line.startswith("major: grant removed: SSMInstanceProfileS3Policy no longer allows s3:GetObject on") for line in reasons)


def test_the_moved_attachment_is_not_a_destroy() -> None:
    result = assessment(HYBRID, HYBRID_CW)
    assert "patch: aws_iam_role_policy_attachment.hybrid moved to aws_iam_role_policy_attachment.hybrid_instance_core (a moved block keeps the object)" in [
        r.line() for r in result.reasons
    ]
    assert result.changes.removed == ()


def test_endpoints_off_removes_an_input_and_an_output() -> None:
    reasons = lines(BASE, spec(vpc_endpoints={"enabled": False}))
    assert 'major: input vpc_endpoint_network removed (callers that set it fail with "Unsupported argument")' in reasons
    assert "major: output vpc_endpoint_ids removed (callers reading it fail)" in reasons


def test_input_type_and_requirement_changes() -> None:
    old = Interface({"x": Input("string", False, (("length(var.x) > 0", "x is empty"),))}, ("a",), ())
    new = Interface({"x": Input("list(string)", True)}, ("a", "b"), ())
    assert [r.line() for r in interface_reasons(old, new)] == [
        "major: input x changed type from string to list(string)",
        "major: input x is now required (callers must set it)",
        "minor: input x has fewer validations (it accepts more)",
        "minor: new output b",
    ]
    tightened = Interface({"x": Input("string", False, (("length(var.x) > 3", "x is too short"),))}, ("a",), ())
    assert [r.line() for r in interface_reasons(old, tightened)] == ["major: input x has a new or tightened validation: x is too short"]


def test_the_interface_is_read_from_the_document() -> None:
    module = generate(spec(vpc_endpoints={"enabled": True, "services": ["ssm", "s3"]}))
    interface = module_interface(module.document, module.grants)
    assert interface.aliases == ("aws.eu_west_1", "aws.us_east_2")
    network = interface.inputs["vpc_endpoint_network"]
    assert network.required and network.keys == ("us-east-2", "eu-west-1")
    # one check per Region (naming it), one on the key list, one on the gateway's route tables
    assert len(network.validations) == 4
    assert [m for _, m in network.validations][:2] == [
        "vpc_endpoint_network has no entry for Region us-east-2; it needs one for each of: us-east-2, eu-west-1.",
        "vpc_endpoint_network has no entry for Region eu-west-1; it needs one for each of: us-east-2, eu-west-1.",
    ]
    assert network.type.startswith("map(object({ vpc_id = string")
    assert not interface.inputs["tags"].required and interface.inputs["tags"].type == "map(string)"
    assert {"role_name", "instance_profile_arn", "vpc_endpoint_ids", "hybrid_role_arn"} <= set(interface.outputs)
    assert module_interface(generate(spec(), format="json").document, module.grants).aliases == interface.aliases


# -- Versions: what each level allows --------------------------------------------------------------


@pytest.mark.parametrize(
    "previous, level, expected",
    [
        ("1.4.2", Level.MAJOR, "2.0.0"), ("1.4.2", Level.MINOR, "1.5.0"), ("1.4.2", Level.PATCH, "1.4.3"),
        # Before 1.0.0 (Cargo): breaking -> minor, anything else -> patch.
        ("0.3.1", Level.MAJOR, "0.4.0"), ("0.3.1", Level.MINOR, "0.3.2"), ("0.3.1", Level.PATCH, "0.3.2"),
        ("0.0.3", Level.MAJOR, "0.1.0"),
        # After a pre-release, its own release line when the pre-release already bumped that place.
        ("2.0.0-rc.1", Level.MAJOR, "2.0.0"), ("1.5.0-beta", Level.MAJOR, "2.0.0"), ("1.5.0-beta", Level.MINOR, "1.5.0"),
        (None, Level.MINOR, "0.1.0"), (None, Level.MAJOR, "1.0.0"),
    ],
)
def test_the_smallest_version_a_level_allows(previous: str | None, level: Level, expected: str) -> None:
    assert next_version(Version.parse(previous) if previous else None, level).text == expected


@pytest.mark.parametrize(
    "previous, version, level, ok",
    [
        ("1.0.0", "1.1.0", Level.MAJOR, False), ("1.0.0", "2.0.0", Level.MAJOR, True), ("1.0.0", "2.0.0-rc.1", Level.MAJOR, True),
        ("1.0.0", "1.0.1", Level.MINOR, False), ("1.0.0", "1.1.0", Level.MINOR, True), ("1.0.0", "3.0.0", Level.PATCH, True),
        ("0.1.0", "0.1.1", Level.MAJOR, False), ("0.1.0", "0.2.0", Level.MAJOR, True), ("0.1.0", "0.1.1", Level.MINOR, True),
    ],
)
def test_a_version_allows_a_level(previous: str, version: str, level: Level, ok: bool) -> None:
    assert allows(Version.parse(previous), Version.parse(version), level) is ok


def test_a_version_too_low_is_refused_with_each_reason_on_its_own_line() -> None:
    previous = record_of(BASE)
    result = assessment(BASE, spec(regions=["us-east-2", "eu-west-1", "ap-southeast-2"]))
    with pytest.raises(CheckFailed) as caught:
        choose_version(previous, result, version="1.1.0")
    message = str(caught.value).splitlines()
    assert message[0].startswith("1.1.0 is too low: the change since 1.0.0 is major, so the release must be at least 2.0.0")
    assert "major: new provider alias aws.ap_southeast_2 (callers must pass it)" in message[1:]
    assert all(line.startswith("major: ") for line in message[1:])
    with pytest.raises(CheckFailed):
        choose_version(previous, result, bump="minor")
    assert choose_version(previous, result, bump="auto") == "2.0.0"
    assert choose_version(previous, result, bump="major") == "2.0.0"
    assert choose_version(previous, result, version="2.0.0") == "2.0.0"


def test_bumps_before_1_0_0_follow_cargo() -> None:
    previous = record_of(BASE, "0.3.1")
    breaking = assess_release(generate(spec(regions=["us-east-2"])).document, generate(spec(regions=["us-east-2"])).grants, previous)
    additive = assess_release(generate(spec(managed_policies={"cloudwatch_agent": True})).document,
                              generate(spec(managed_policies={"cloudwatch_agent": True})).grants, previous)
    assert choose_version(previous, breaking, bump="auto") == "0.4.0"
    assert choose_version(previous, additive, bump="auto") == "0.3.2"
    assert choose_version(previous, breaking, bump="major") == "1.0.0"  # the literal number, as cargo release does
    with pytest.raises(CheckFailed, match=r"before 1\.0\.0 a breaking change bumps the minor number"):
        choose_version(previous, breaking, bump="patch")


def test_the_first_release_takes_any_version_and_has_no_breaking_section() -> None:
    module = generate(BASE)
    record, result = release_record(module.document, module.grants, format="hcl", previous=None, bump="auto")
    assert record.version == "0.1.0" and result.reasons == ()
    assert not any("Breaking" in line for line in record.changelog[0].lines)
    assert release_record(module.document, module.grants, format="hcl", previous=None, version="3.2.1")[0].version == "3.2.1"


@pytest.mark.parametrize(("choice", "says"), [({}, "give the release's version: "), ({"version": "2.0.0", "bump": "auto"}, "not both")])
def test_version_and_bump_are_one_of(choice: dict[str, str], says: str) -> None:
    module = generate(BASE)
    with pytest.raises(SpecError, match=re.escape(says)):
        release_record(module.document, module.grants, format="hcl", previous=None, **choice)


# -- The CHANGELOG's upgrade steps -------------------------------------------------------------------


def test_a_breaking_release_writes_upgrade_steps() -> None:
    new = spec(regions=["us-east-2", "eu-west-1", "ap-southeast-2"])
    module = generate(new)
    record, _ = release_record(module.document, module.grants, format="hcl", previous=record_of(BASE), bump="auto")
    entry = record.changelog[0]
    assert entry.version == "2.0.0"
    text = "\n".join(entry.lines)
    assert text.startswith("### Breaking changes\n\nA root module written for 1.0.0 breaks or loses something with this release. To upgrade:\n\n1. **")
    assert 'provider "aws" { alias = "ap_southeast_2", region = "ap-southeast-2" }' in text
    assert "`providers = { ..., aws.ap_southeast_2 = aws.ap_southeast_2 }`" in text
    assert 'Add the key `"ap-southeast-2"` to `vpc_endpoint_network`' in text
    removed = record_of(BASE, "2.0.0", record_of(new, "1.0.0"))  # back to two Regions, after 1.0.0 had three
    text = "\n".join(removed.changelog[0].lines)
    assert "Terraform destroys `aws_vpc_endpoint.ssm_ap_southeast_2` (service_name `com.amazonaws.ap-southeast-2.ssm`): its Region ap-southeast-2 left the spec" in text
    assert "Keep passing `aws.ap_southeast_2` until you have applied this release" in text


def test_a_minor_release_lists_interface_additions_without_a_breaking_section() -> None:
    record = record_of(spec(default_host_management={"enabled": True}), "1.1.0", record_of(BASE))
    text = "\n".join(record.changelog[0].lines)
    assert "Breaking" not in text
    assert "### Interface\n\n- new output default_host_management_role_arn\n- new output default_host_management_role_name" in text


# -- Records written before interfaces were kept (format 1) ------------------------------------------


# The examples' records as ssm-profile wrote them in format 1, kept here since the committed
# modules were released again (in format 2) when their trust policies lost the Sid.
FORMAT_1_RECORDS = Path(__file__).resolve().parent / "data" / "format-1-records"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_format_1_records_are_read_and_written_back_unchanged(name: str) -> None:
    text = (FORMAT_1_RECORDS / f"{name}.json").read_text()
    record = ReleaseRecord.from_json(text)
    assert json.loads(text)["format"] == 1 and record.interface is None
    assert record.to_json() == text, "generate --check must stay clean on a module released in format 1"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_committed_records_are_read_and_written_back_unchanged(name: str) -> None:
    # The committed examples were released again (format 2): they must round-trip byte for byte too.
    text = (MODULES / name / RELEASE_FILE).read_text()
    record = ReleaseRecord.from_json(text)
    assert (json.loads(text)["format"] == 1) is (record.interface is None)
    assert record.to_json() == text, "generate --check must stay clean on a released module, whatever its record format"


def test_against_a_format_1_record_the_change_counts_as_breaking() -> None:
    previous = ReleaseRecord.from_json((FORMAT_1_RECORDS / "basic.json").read_text())
    assert previous is not None and previous.version == "0.1.0"
    module = generate(EXAMPLES["basic"])
    result = assess_release(module.document, module.grants, previous)
    assert result.level is Level.MAJOR
    assert [r.line() for r in result.breaking] == [
        "major: the record of 0.1.0 predates interface tracking (record format 1): inputs, outputs and provider "
        "aliases cannot be compared, so the change counts as breaking"
    ]
    record, _ = release_record(module.document, module.grants, format="hcl", previous=previous, bump="auto")
    assert record.version == "0.2.0" and record.interface is not None
    assert json.loads(record.to_json())["format"] == 2
    assert ReleaseRecord.from_json(record.to_json()) == record


# -- release_module: the `release` command's library function ---------------------------------------


def generated_module(tmp_path: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """``data`` as a JSON spec file in ``tmp_path`` and its module generated into ``tmp_path/mod``."""
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(data), encoding="utf-8")
    module = tmp_path / "mod"
    write_module(generate(spec_path, module_dir=module), module)
    return spec_path, module


def test_release_module_refuses_a_version_too_low_and_writes_nothing(tmp_path: Path) -> None:
    spec_path, module = generated_module(tmp_path, BASE)
    first = release_module(module, version="1.0.0")
    assert first.record.version == "1.0.0" and first.assessment.changes.first and first.assessment.breaking == ()
    assert {"CHANGELOG.md", RELEASE_FILE, ".ssm-profile.json"} <= set(first.files)
    assert read_release_record(module) == first.record
    spec_path.write_text(json.dumps(spec(regions=["us-east-2"])), encoding="utf-8")  # eu-west-1's endpoints destroyed
    before = {p.name: p.read_bytes() for p in module.iterdir() if p.is_file()}
    with pytest.raises(CheckFailed) as refused:
        release_module(module, version="1.1.0")
    assert str(refused.value).startswith("1.1.0 is too low: the change since 1.0.0 is major, so the release must be at least 2.0.0")
    assert {p.name: p.read_bytes() for p in module.iterdir() if p.is_file()} == before
    second = release_module(module, bump="auto")
    assert (second.record.version, second.assessment.level) == ("2.0.0", Level.MAJOR)
    assert second.assessment.changes.removed and all(r.level is Level.MAJOR for r in second.assessment.breaking)
    assert [m.version for m in second.record.changelog] == ["2.0.0", "1.0.0"]
    assert json.loads((module / ".ssm-profile.json").read_text())["module_version"] == "2.0.0"


def test_release_module_needs_a_module_and_exactly_one_of_version_and_bump(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=re.escape("give either --version X.Y.Z or --bump")):
        release_module(tmp_path, version="1.0.0", bump="auto")
    with pytest.raises(SpecError, match=re.escape("give the release's version: --version X.Y.Z, or --bump")):
        release_module(tmp_path)
    with pytest.raises(SpecError, match=r"not a module generated by ssm-profile \(no .ssm-profile.json\); generate it first"):
        release_module(tmp_path, bump="auto")


def test_release_module_keeps_a_users_changelog_unless_forced(tmp_path: Path) -> None:
    _, module = generated_module(tmp_path, BASE)
    (module / "CHANGELOG.md").write_text("# ours\n", encoding="utf-8")
    with pytest.raises(OutputError, match=re.escape("CHANGELOG.md exists and was not generated by ssm-profile")):
        release_module(module, bump="auto")
    assert (module / "CHANGELOG.md").read_text(encoding="utf-8") == "# ours\n"
    assert release_module(module, bump="auto", force=True).record.version == "0.1.0"
    assert (module / "CHANGELOG.md").read_text(encoding="utf-8").startswith("<!-- Generated by ssm-profile")


# -- The CLI -------------------------------------------------------------------------------------------



def test_cli_refuses_a_minor_release_of_a_breaking_change(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(BASE))
    module = tmp_path / "mod"
    assert run("generate", str(spec_file), "-o", str(module))[0] == 0
    assert run("release", str(module), "--version", "1.0.0")[0] == 0
    spec_file.write_text(json.dumps(spec(regions=["us-east-2", "eu-west-1", "ap-southeast-2"])))
    before = {p.name: p.read_bytes() for p in module.iterdir() if p.is_file()}
    code, out, err = run("release", str(module), "--version", "1.1.0")
    assert (code, out) == (1, "")
    first, *reasons = err.splitlines()
    assert first.startswith("ssm-profile: error: 1.1.0 is too low: the change since 1.0.0 is major")
    assert "major: new provider alias aws.ap_southeast_2 (callers must pass it)" in reasons
    assert "major: input vpc_endpoint_network needs a new key ap-southeast-2 (callers must add it)" in reasons
    assert {p.name: p.read_bytes() for p in module.iterdir() if p.is_file()} == before, "nothing written"
    assert run("release", str(module), "--bump", "patch")[0] == 1
    code, out, err = run("release", str(module), "--bump", "auto")
    assert (code, err) == (0, "") and out.startswith(f"{module}: released 2.0.0: major change")
    assert "  major: new provider alias aws.ap_southeast_2 (callers must pass it)" in out.splitlines()
    assert "### Breaking changes" in (module / "CHANGELOG.md").read_text()
    assert run("generate", str(spec_file), "-o", str(module), "--check")[0] == 0
    assert run("drift", str(module))[0] == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [([], "give the release's version: --version X.Y.Z, or --bump auto|major|minor|patch to pick it"),
     (["--version", "1.0.0", "--bump", "auto"], "give either --version X.Y.Z or --bump auto|major|minor|patch, not both")],
)
def test_cli_needs_exactly_one_of_version_and_bump(tmp_path: Path, args: list[str], says: str) -> None:
    code, _, err = run("release", str(tmp_path), *args)
    assert code == 2 and err == f"ssm-profile: error: --version: {says}\n"


@pytest.mark.parametrize("text", ["1.0.0\n", "1.0.0 ", "1.0.0-rc.1\n", "1.0.0+build\n", " 1.0.0"])
def test_a_version_with_surrounding_whitespace_is_refused(text: str) -> None:
    with pytest.raises(SpecError, match="is not a semantic version"):
        Version.parse(text)
