"""The manifest module: one schema, one reader, one writer, compatible with the committed modules."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from conftest import MODULES
from ssm_profile import OutputError, generate
from ssm_profile.output.manifest import MANIFEST_FILE, Manifest, decode_manifest, manifests_under, read_manifest, unsafe_file_name

VALID = {
    "generator": "ssm-profile",
    "version": "0.1.0",
    "spec": "../spec.toml",
    "format": "hcl",
    "partition": "aws",
    "regions": ["us-east-2"],
    "files": {"main.tf": "0" * 64},
}


@pytest.mark.parametrize("module", sorted(p.name for p in MODULES.iterdir() if (p / MANIFEST_FILE).is_file()))
def test_committed_manifests_read_and_write_back_byte_for_byte(module: str) -> None:
    path = MODULES / module / MANIFEST_FILE
    manifest = read_manifest(MODULES / module)
    assert manifest is not None and manifest.to_json() == path.read_text()


def test_the_pipeline_writes_what_the_reader_reads() -> None:
    module = generate({"version": 1, "regions": ["us-east-2", "eu-west-1"]}, source="spec.toml")
    manifest = module.manifest
    assert manifest.to_json() == module.files[MANIFEST_FILE]
    assert (manifest.spec, manifest.format, manifest.engine, manifest.regions) == ("spec.toml", "hcl", "native", ["us-east-2", "eu-west-1"])
    assert set(manifest.files) == set(module.files) - {MANIFEST_FILE}
    assert "module_version" not in module.files[MANIFEST_FILE], "written only for released modules"


def test_a_manifest_from_before_the_cdk_engine_reads_as_native() -> None:
    manifest = decode_manifest(json.dumps(VALID))
    assert (manifest.engine, manifest.required_inputs, manifest.provider_aliases, manifest.module_version) == ("native", [], {}, None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"regions": []}, "Expected `array` of length >= 1"),
        ({"format": "yaml"}, "Invalid enum value 'yaml' - at `$.format`"),
        ({"generator": "other"}, "Invalid enum value 'other' - at `$.generator`"),
        ({"files": {"main.tf": "abc"}}, "Expected `str` matching regex"),
        ({"files": {"../main.tf": "0" * 64}}, "leaves the module folder"),
        ({"files": {"/etc/passwd": "0" * 64}}, "is not a plain relative file name"),
        ({"files": {"a\nb": "0" * 64}}, "is not a plain relative file name"),
        ({"spec": 3}, "Expected `str`, got `int`"),
    ],
)
def test_every_read_validates_the_schema(tmp_path: Path, change: dict, reason: str) -> None:
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**VALID, **change}))
    with pytest.raises(OutputError) as raised:
        read_manifest(tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / MANIFEST_FILE}: not a valid ssm-profile manifest (") and reason in message
    assert "\n" not in message and "remove" not in message.lower()


def test_no_manifest_is_none_and_an_unreadable_one_is_an_error(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None and read_manifest(tmp_path / "missing") is None
    (tmp_path / MANIFEST_FILE).mkdir()
    with pytest.raises(OutputError, match=r"is a folder; the manifest is a file ssm-profile writes"):
        read_manifest(tmp_path)


def test_manifests_under_finds_modules_and_skips_hidden_folders(tmp_path: Path) -> None:
    for folder in ("a", "b/c", ".hidden/d", "node_modules/e"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / MANIFEST_FILE).write_text("{}")
    assert manifests_under(tmp_path) == [tmp_path / "a", tmp_path / "b" / "c"]


def test_unsafe_file_names() -> None:
    assert [unsafe_file_name(n) for n in ("main.tf", "tests/module.tftest.hcl")] == ["", ""]
    assert all(unsafe_file_name(n) for n in ("", ".", "a/../b", "./a", "a//b", "a/", "C:\\x", "/x"))


def test_the_struct_is_the_schema() -> None:
    schema = msgspec.json.schema(Manifest)
    fields = schema["$defs"]["Manifest"]["properties"]
    assert list(fields) == [
        "generator", "version", "spec", "format", "engine", "partition", "regions",
        "required_inputs", "provider_aliases", "files", "module_version", "fleet", "module", "accounts",
    ]
