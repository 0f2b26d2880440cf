"""Stage 1: reading and validating spec files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssm_profile.errors import SpecError
from ssm_profile.spec.load import Spec, json_schema, load_spec, spec_from_data

MINIMAL = {"version": 1, "regions": ["us-east-2"]}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_documented_spec() -> None:
    spec = spec_from_data(MINIMAL).spec
    assert spec.role.name == "SSMInstanceProfile"
    assert spec.role.create is True
    assert spec.instance_profile.create is True
    assert spec.managed_policies.instance_core is True
    assert spec.managed_policies.directory_service is False
    assert spec.managed_policies.cloudwatch_agent is False
    assert spec.s3.policy_name == "SSMInstanceProfileS3Policy"
    assert spec.s3.vpc_endpoint is False
    assert spec.s3.buckets == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("spec.toml", 'version = 1\nregions = ["eu-west-1"]\n[role]\nname = "R"\n'),
        ("spec.yaml", "version: 1\nregions: [eu-west-1]\nrole:\n  name: R\n"),
        ("spec.yml", "version: 1\nregions: [eu-west-1]\nrole: {name: R}\n"),
        ("spec.json", json.dumps({"version": 1, "regions": ["eu-west-1"], "role": {"name": "R"}})),
    ],
)
def test_every_format_reads_the_same_spec(tmp_path: Path, name: str, text: str) -> None:
    spec = load_spec(write(tmp_path, name, text)).spec
    assert isinstance(spec, Spec)
    assert spec.regions == ["eu-west-1"]
    assert spec.role.name == "R"


def error_of(data: object) -> SpecError:
    with pytest.raises(SpecError) as caught:
        spec_from_data(data)
    return caught.value


def test_unknown_key_names_the_path_and_suggests() -> None:
    error = error_of({**MINIMAL, "role": {"nmae": "x"}})
    assert str(error).startswith("role.nmae: unknown field (did you mean name?)")
    assert "allowed: create, description, max_session_duration, name, path, permissions_boundary, tags" in str(error)


def test_unknown_top_level_key_suggests() -> None:
    assert str(error_of({**MINIMAL, "regoins": []})).startswith("regoins: unknown field (did you mean regions?)")


def test_wrong_type_names_the_field() -> None:
    assert str(error_of({**MINIMAL, "role": {"create": "yes"}})) == "role.create: expected true or false, got a string"


def test_region_did_you_mean() -> None:
    assert str(error_of({"version": 1, "regions": ["us-east-2", "us-esat-1"]})) == (
        "regions[1]: 'us-esat-1' is not a Region of any supported partition (did you mean us-east-1?)"
    )


def test_bucket_list_entry_path() -> None:
    error = error_of({**MINIMAL, "s3": {"buckets": [{"name": "ok-bucket"}, {"name": "Bad/Bucket"}]}})
    assert str(error).startswith("s3.buckets[1].name: 'Bad/Bucket' may hold only lower-case letters")


def test_missing_required_field() -> None:
    assert str(error_of({"version": 1})) == "regions: is required"


def test_enum_lists_allowed_values() -> None:
    error = error_of({**MINIMAL, "s3": {"agent_buckets": "newest"}})
    assert str(error) == 's3.agent_buckets: \'newest\' is not allowed; allowed: "all", "current", "seed"'


def test_version_must_be_one() -> None:
    assert str(error_of({"version": 2, "regions": ["us-east-1"]})) == "version: 2 is not allowed; allowed: 1"


def test_regions_of_two_partitions_are_refused() -> None:
    error = error_of({"version": 1, "regions": ["us-east-1", "cn-north-1"]})
    assert "regions[1]: 'cn-north-1' is in partition aws-cn" in str(error)


def test_partition_must_match_the_regions() -> None:
    error = error_of({"version": 1, "regions": ["us-gov-west-1"], "partition": "aws"})
    assert str(error) == "regions[0]: 'us-gov-west-1' belongs to partition aws-us-gov, but partition is 'aws'"


def test_empty_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.toml: the file is empty"):
        load_spec(write(tmp_path, "spec.toml", "\n"))


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec.toml: not valid TOML: .*line 1"):
        load_spec(write(tmp_path, "spec.toml", "version = = 1\n"))


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"unknown spec file type '.ini'"):
        load_spec(write(tmp_path, "spec.ini", "x"))


def test_schema_is_json_schema_of_the_spec() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    spec = schema["$defs"]["Spec"]
    assert spec["required"] == ["version", "regions"]
    assert spec["additionalProperties"] is False
    assert set(spec["properties"]) == {
        "version", "regions", "partition", "role", "instance_profile", "managed_policies", "s3", "limits",
        "default_host_management", "hybrid", "session_manager", "vpc_endpoints", "module",
    }


# -- hostile input (issue 10) -----------------------------------------------------------------

BOM = "\ufeff"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("spec.toml", BOM + 'version = 1\nregions = ["eu-west-1"]\n'),
        ("spec.yaml", BOM + "version: 1\nregions: [eu-west-1]\n"),
        ("spec.json", BOM + json.dumps({"version": 1, "regions": ["eu-west-1"]})),
    ],
)
def test_a_byte_order_mark_is_accepted_in_every_format(tmp_path: Path, name: str, text: str) -> None:
    assert load_spec(write(tmp_path, name, text)).spec.regions == ["eu-west-1"]


def test_yaml_anchors_and_merge_keys_still_read(tmp_path: Path) -> None:
    text = (
        "version: 1\nregions: [eu-west-1]\n"
        "role:\n  tags: &common {Team: platform, Env: prod}\n"
        "s3:\n  buckets:\n    - &bucket {name: logs-bucket, encrypted: true}\n"
        "    - {<<: *bucket, name: data-bucket}\n"
    )
    spec = load_spec(write(tmp_path, "spec.yaml", text)).spec
    assert spec.role.tags == {"Team": "platform", "Env": "prod"}
    assert [(b.name, b.encrypted) for b in spec.s3.buckets] == [("logs-bucket", True), ("data-bucket", True)]


# Letters, numbers and separators of any script are in IAM's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html), U+2028/U+2029 (\p{Zl}, \p{Zp})
# and the ideographic and no-break spaces (\p{Zs}) included.
UNICODE_TAGS = {
    "Équipe": "Plateforme Ünï",
    "部署": "開発 チーム",
    "Sep": "a\u2028b\u2029c\u3000d\u00a0e",
    "Num": "\u0661\u0662 ½ Ⅻ",
    "Marks": "_.:/=+-@",
    "Empty": "",
}


def test_iam_tags_accept_unicode_letters_numbers_and_spaces() -> None:
    assert spec_from_data({**MINIMAL, "role": {"tags": UNICODE_TAGS}}).spec.role.tags == UNICODE_TAGS


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x00", "\x85", "\u200b", "\u202e", "*", "#", "☃", "😀"])
def test_iam_tags_refuse_what_the_pattern_excludes(char: str) -> None:
    for tags in ({f"K{char}": "v"}, {"K": f"v{char}"}):
        message = str(error_of({**MINIMAL, "role": {"tags": tags}}))
        assert "which IAM tags do not allow" in message and len(message.splitlines()) == 1


def test_every_pattern_of_the_schema_is_ascii_and_anchored() -> None:
    """Patterns serve JSON Schema (ECMA-262) and Python alike: no Unicode-wide \\w \\d \\s, no \\Z."""
    patterns = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            patterns.extend(v for k, v in node.items() if k == "pattern")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json_schema())
    assert len(patterns) >= 8
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        assert not any(escape in pattern for escape in ("\\w", "\\d", "\\s", "\\Z")), pattern


def test_field_paths_quote_map_keys_and_dot_fields() -> None:
    from ssm_profile.spec.shape import field_path

    assert field_path(Spec, ("role", "tags", "Team")) == 'role.tags["Team"]'
    assert field_path(Spec, ("s3", "buckets", 2, "name")) == "s3.buckets[2].name"
    assert field_path(Spec, ("s3", "agent_bucket_suffixes", "us-east-1", "patch_manager")) == (
        's3.agent_bucket_suffixes["us-east-1"].patch_manager'
    )
    assert field_path(Spec, ("odd\nkey",)) == 'spec["odd\\nkey"]'


def test_did_you_mean_is_bounded() -> None:
    import time

    from ssm_profile.aws.partitions import suggest

    choices = [f"region-{i}-of-many" for i in range(500)]
    started = time.perf_counter()
    assert suggest("x" * 1_000_000, choices) == ""
    assert suggest("y" * 64, choices) == ""
    assert time.perf_counter() - started < 0.5
    assert suggest("us-esat-1", ["us-east-1", "us-west-1"]) == " (did you mean us-east-1?)"


@pytest.mark.terraform
def test_unicode_tags_reach_the_plan_unchanged_in_hcl_and_json(tmp_path: Path) -> None:
    """IAM-valid Unicode tag values (line separators included) survive HCL and Terraform JSON rendering."""
    from plan_state import plan_offline
    from ssm_profile import generate, write_module

    spec = {**MINIMAL, "role": {"tags": UNICODE_TAGS}}
    for format_ in ("hcl", "json"):
        write_module(generate(spec, format=format_), tmp_path / format_)
        plan = plan_offline(tmp_path / format_)
        roles = [
            change["change"]["after"]
            for change in plan["resource_changes"]
            if change["type"] == "aws_iam_role"
        ]
        assert roles and all(role["tags"] == UNICODE_TAGS for role in roles), (format_, roles)


def test_shape_check_handles_a_string_or_a_per_region_table() -> None:
    """A field that is a string or a Region -> string table (as new fields may be) gets exact paths."""
    from typing import Annotated

    import msgspec

    from ssm_profile.spec.shape import check_shape, field_path

    name = Annotated[str, msgspec.Meta(pattern="^[a-z]+$")]
    shape = msgspec.defstruct("Shape", [("key", name | dict[str, name], "")], forbid_unknown_fields=True)

    def problem(data: dict) -> str:
        with pytest.raises(SpecError) as caught:
            check_shape(data, shape, {"^[a-z]+$": "lower-case letters"})
        return str(caught.value)

    check_shape({"key": {"us-east-1": "abc"}}, shape, {})
    assert problem({"key": "abc\n"}) == "key: must be lower-case letters; '\\n' (U+000A) is not allowed"
    assert problem({"key": {"us-east-1": "x\n"}}).startswith('key["us-east-1"]: must be lower-case letters')
    assert problem({"key": 3}) == "key: expected a string or a table, got an integer"
    assert field_path(shape, ("key", "us-east-1")) == 'key["us-east-1"]'
