"""Issue 23, trust nothing it is handed: the injection and reader half.

Every file the tool reads goes through one bounded reader (:mod:`ssm_profile.intake`), and every
user string reaches Terraform through one escaping path. The cases here are the issue's and
the siblings found beside them: each asserts the contract (exit 2, one line naming the file
or field, nothing written, no traceback), and the Terraform proof at the end plans hostile
text and finds it literal. Expected values are written by hand from Terraform's and HCL's
documented rules, never read back from ssm-profile.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from conftest import invoke
from ssm_profile.errors import OutputError, SpecError, SsmProfileError
from ssm_profile.fleet.files import generate_fleet, load_fleet
from ssm_profile.intake import (
    FLEET_FILE,
    KINDS,
    MANIFEST,
    RELEASE_RECORD,
    SPEC_FILE,
    SUPPRESSIONS_FILE,
    VAR_FILE,
    FileKind,
    read_text,
)
from ssm_profile.judges.suppressions import load_suppressions
from ssm_profile.output.manifest import MANIFEST_FILE, RELEASE_FILE, read_manifest
from ssm_profile.release.record import ReleaseRecord, read_release_record
from ssm_profile.render.hcl import render_value
from ssm_profile.render.tfjson import json_value
from ssm_profile.terraform.inputs import read_var_file
from ssm_profile.tfmodule.document import RESOURCE_ADDRESS

#: What a hostile user types: Terraform's template sequences, their escapes, quotes,
#: backslashes, every C0 control, DEL, C1, separators, heredoc markers, astral characters.
HOSTILE = [
    "${upper(terraform.workspace)}",
    "%{for x in [1]}k%{endfor}",
    "$${already}",
    "%%{already}",
    "$",
    "%",
    "${",
    "a\"b",
    "back\\slash\\",
    "\\n literally",
    "\\u0041 literally",
    "<<EOF\nheredoc\nEOF",
    "<<-EOT",
    "\b\f\v",
    "".join(map(chr, range(1, 32))),
    "\x7f\x85\x9f",
    "line\u2028para\u2029",
    "astral 😀 𝕏",
    "}\ndata \"external\" \"x\" { program = [\"id\"] }\n",
    "for",
    "null",
    "true",
]


def one_line_exit_2(result: Any, *needles: str) -> None:
    """The contract of bad input: exit 2, one error line naming what is wrong, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.stderr.splitlines() if line.startswith("ssm-profile: error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    assert "Traceback" not in result.output


# -- The bounded reader, for every kind of file -----------------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _folder(path: Path) -> None:
    path.mkdir()


def _not_utf8(path: Path) -> None:
    path.write_bytes(b'{"a": "caf\xe9"}\n')


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (_fifo, "is not a regular file"),
    "link to /dev/zero": (_dev_zero, "is not a regular file"),
    "folder": (_folder, "is a folder"),
    "not UTF-8": (_not_utf8, "is not UTF-8 text: byte 0xe9 on line 1"),
}


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
@pytest.mark.parametrize("fault", FAULTS)
def test_the_reader_refuses_what_is_not_a_small_utf8_file(tmp_path: Path, kind: FileKind, fault: str) -> None:
    make, expected = FAULTS[fault]
    path = tmp_path / "input.json"
    make(path)
    started = time.monotonic()
    with pytest.raises(SpecError) as raised:
        read_text(path, kind)
    assert time.monotonic() - started < 2  # a FIFO never waits for a writer
    assert str(raised.value).startswith(f"{path}: {expected}") and "\n" not in str(raised.value)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_the_reader_stops_one_byte_past_the_limit(tmp_path: Path, kind: FileKind) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as file:  # sparse: no disk used, but the reader still sees the size
        file.truncate(kind.max_bytes + 1)
    with pytest.raises(SpecError, match=rf"is larger than {kind.max_bytes // 2**20} MiB, the limit for a {kind.name}"):
        read_text(path, kind)
    path.write_bytes(b"\xef\xbb\xbf" + b" " * 10)  # a byte-order mark is dropped
    assert read_text(path, kind) == " " * 10
    assert read_text(tmp_path / "missing", kind, missing_ok=True) is None


def test_every_kind_has_the_limits_docs_trust_md_states() -> None:
    documented = (Path(__file__).resolve().parent.parent / "docs" / "trust.md").read_text(encoding="utf-8")
    for kind in KINDS:
        row = next((line for line in documented.splitlines() if line.startswith(f"| {kind.name} ")), "")
        assert f"{kind.max_bytes // 2**20} MiB" in row and f"| {kind.max_depth} |" in row, (kind.name, row)


# -- Each reader of the tool, through its own entry point --------------------------------------

SPEC = 'version = 1\nregions = ["us-east-1"]\n'


def _module(tmp_path: Path, release: bool = False) -> Path:
    (tmp_path / "spec.toml").write_text(SPEC)
    out = tmp_path / "out"
    assert invoke("generate", str(tmp_path / "spec.toml"), "-o", str(out)).exit_code == 0
    if release:
        assert invoke("release", str(out), "--version", "1.0.0").exit_code == 0
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


DEEP_JSON = '{"a": ' * 100_000 + "1" + "}" * 100_000


@pytest.mark.parametrize("fault", [*FAULTS, "deep"])
@pytest.mark.parametrize("target", ["manifest", "release record"])
def test_a_hostile_manifest_or_record_is_one_line_in_every_command(tmp_path: Path, target: str, fault: str) -> None:
    out = _module(tmp_path, release=True)
    path = out / (MANIFEST_FILE if target == "manifest" else RELEASE_FILE)
    path.unlink()
    if fault == "deep":
        path.write_text(DEEP_JSON)
    else:
        FAULTS[fault][0](path)
    before = _tree(out)
    for args in (["generate", str(tmp_path / "spec.toml"), "-o", str(out)], ["generate", str(tmp_path / "spec.toml"), "-o", str(out), "--check"],
                 ["drift", str(out)], ["release", str(out), "--version", "2.0.0"]):
        started = time.monotonic()
        result = invoke(*args)
        assert time.monotonic() - started < 10, args
        one_line_exit_2(result, str(path))
        assert _tree(out) == before, args


@pytest.mark.parametrize("fault", [*FAULTS, "deep"])
def test_a_hostile_fleet_file_is_one_line(tmp_path: Path, fault: str) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(DEEP_JSON) if fault == "deep" else FAULTS[fault][0](path)
    result = invoke("fleet", str(path), "-o", str(tmp_path / "live"))
    one_line_exit_2(result, str(path))
    assert not (tmp_path / "live").exists()


VAR_FILES = {
    "deep.tfvars": "tags = " + "[" * 100_000,
    "deep-object.tfvars": "tags = " + "{a = " * 100_000,
    "deep.json": '{"tags": ' + "[" * 100_000,
}


@pytest.mark.parametrize("fault", [*FAULTS, *VAR_FILES])
def test_a_hostile_var_file_is_one_line_naming_it(tmp_path: Path, fault: str) -> None:
    out = _module(tmp_path)
    path = tmp_path / (fault if fault in VAR_FILES else "inputs.tfvars")
    path.write_text(VAR_FILES[fault]) if fault in VAR_FILES else FAULTS[fault][0](path)
    started = time.monotonic()
    with pytest.raises(SpecError) as raised:
        read_var_file(path, out)
    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert (VAR_FILE.too_deep in message) if fault in VAR_FILES else (FAULTS[fault][1] in message)


def test_var_file_names_starting_with_two_underscores_are_names(tmp_path: Path) -> None:
    # Terraform's identifiers may start with "_" (https://developer.hashicorp.com/terraform/language/syntax/configuration#identifiers):
    # only python-hcl2's own comment keys are left out.
    module = tmp_path / "module"
    module.mkdir()
    (module / "variables.tf").write_text('variable "__private" {\n  type = string\n}\n')
    (tmp_path / "ok.tfvars").write_text('# a comment\n__private = "x" // another\n/* and a block */\n')
    assert read_var_file(tmp_path / "ok.tfvars", module).names == ("__private",)
    (tmp_path / "bad.tfvars").write_text('__nope = "x"\n')
    with pytest.raises(SpecError, match=r"bad.tfvars: __nope: not an input of the module"):
        read_var_file(tmp_path / "bad.tfvars", module)


@pytest.mark.parametrize("fault", [*FAULTS, "deep", "deep-dotted"])
def test_a_hostile_suppressions_file_is_one_line(tmp_path: Path, fault: str) -> None:
    path = tmp_path / "judges-suppressions.toml"
    if fault == "deep":
        path.write_text("a = " + "[" * 100_000)
    elif fault == "deep-dotted":
        path.write_text(".".join(["a"] * 200_000) + " = 1\n")
    else:
        FAULTS[fault][0](path)
    started = time.monotonic()
    with pytest.raises(SpecError) as raised:
        load_suppressions(path)
    assert time.monotonic() - started < 5
    assert str(raised.value).startswith(f"{path}: ") and "\n" not in str(raised.value)
    if fault.startswith("deep"):
        assert SUPPRESSIONS_FILE.too_deep in str(raised.value)


def test_the_readers_answer_none_only_for_a_missing_file(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None and read_release_record(tmp_path) is None
    assert read_manifest(tmp_path / "not-a-folder") is None
    (tmp_path / "file").write_text("")
    assert read_manifest(tmp_path / "file") is None  # a file where the folder should be: no manifest in it


# -- The release record: every field against its schema ---------------------------------------


def _edit(record: dict[str, Any], change: str) -> None:
    """One hand edit of a record, by name (the cases below)."""
    moved = {"from": "aws_iam_role.old", "to": "aws_iam_role.this", "since": "1.0.0"}
    edits: dict[str, Callable[[], None]] = {
        "data external in moved.from": lambda: record["moved"].append(
            {**moved, "from": 'aws_iam_role.x\n}\ndata "external" "x" {\n  program = ["sh", "-c", "id"]\n}\nmoved {\n  from = aws_iam_role.y'}
        ),
        "expression in moved.to": lambda: record["moved"].append({**moved, "to": "aws_iam_role.this[0]"}),
        "module address in moved.to": lambda: record["moved"].append({**moved, "to": "module.x.aws_iam_role.this"}),
        "number in moved.from": lambda: record["moved"].append({**moved, "from": 7}),
        "trailing newline in moved.from": lambda: record["moved"].append({**moved, "from": "aws_iam_role.old\n"}),
        "unicode digit in moved.since": lambda: record["moved"].append({**moved, "since": "1\u0660.0.0"}),
        "declared source in moved.from": lambda: record["moved"].append({**moved, "from": next(iter(record["inventory"])), "to": "aws_iam_role.new"}),
        "unknown field in moved": lambda: record["moved"].append({**moved, "by": "me"}),
        "version not semver": lambda: record.update(version="v1"),
        "version of 5,000 digits": lambda: record.update(version="9" * 5000 + ".0.0"),
        "format 3": lambda: record.update(format=3),
        "format 2 without interface": lambda: record.pop("interface"),
        "unknown top-level field": lambda: record.update(extra=1),
        "inventory address": lambda: record["inventory"].update({"aws_iam_role.x\n": next(iter(record["inventory"].values()))}),
        "inventory type mismatch": lambda: next(iter(record["inventory"].values())).update(type="aws_s3_bucket"),
        "grants name": lambda: record["grants"].update({"a b": []}),
        "changelog line break": lambda: record["changelog"][0]["lines"].append("x\ny"),
        "changelog version": lambda: record["changelog"][0].update(version="1.0"),
        "interface alias": lambda: record["interface"]["aliases"].append("aws.x\ny"),
        "interface output": lambda: record["interface"]["outputs"].append("${x}"),
        "interface input": lambda: record["interface"]["inputs"].update({"a b": {"type": "string", "required": True, "validations": []}}),
        "interface validations type": lambda: next(iter(record["interface"]["inputs"].values())).update(validations="x"),
    }
    edits[change]()


RECORD_FIELDS = {
    "data external in moved.from": "moved[0].from",
    "expression in moved.to": "moved[0].to",
    "module address in moved.to": "moved[0].to",
    "number in moved.from": "moved[0].from",
    "trailing newline in moved.from": "moved[0].from",
    "unicode digit in moved.since": "moved[0].since",
    "declared source in moved.from": "moved[0].from",
    "unknown field in moved": "moved[0]",
    "version not semver": "version",
    "version of 5,000 digits": "version",
    "format 3": "format",
    "format 2 without interface": "interface",
    "unknown top-level field": "extra",
    "inventory address": "inventory[",
    "inventory type mismatch": ".type",
    "grants name": "grants[",
    "changelog line break": "changelog[0].lines[",
    "changelog version": "changelog[0].version",
    "interface alias": "interface.aliases[",
    "interface output": "interface.outputs[",
    "interface input": "interface.inputs[",
    "interface validations type": "validations",
}


@pytest.mark.parametrize("change", RECORD_FIELDS)
def test_a_tampered_record_is_caught_naming_its_field(tmp_path: Path, change: str) -> None:
    out = _module(tmp_path, release=True)
    path = out / RELEASE_FILE
    record = json.loads(path.read_text())
    _edit(record, change)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    before = _tree(out)
    for args in (["generate", str(tmp_path / "spec.toml"), "-o", str(out)], ["generate", str(tmp_path / "spec.toml"), "-o", str(out), "--check"],
                 ["drift", str(out)], ["release", str(out), "--version", "2.0.0"]):
        result = invoke(*args)
        # A release may legitimately move a resource back (the old block is dropped), so for
        # release that record is only one ssm-profile did not write: edited by hand.
        field = "edited by hand" if args[0] == "release" and change == "declared source in moved.from" else RECORD_FIELDS[change]
        one_line_exit_2(result, RELEASE_FILE, field)
        assert _tree(out) == before, args
    assert "external" not in "".join(p.read_text() for p in out.glob("*.tf"))


def test_an_edited_record_that_still_validates_is_drift(tmp_path: Path) -> None:
    # Whatever the record holds, the module is compared with what the spec and the validated
    # record generate: a record rewritten by hand (here: reordered keys) is not what
    # ssm-profile writes, so drift says the module is stale until it is regenerated.
    out = _module(tmp_path, release=True)
    path = out / RELEASE_FILE
    path.write_text(json.dumps(dict(reversed(list(json.loads(path.read_text()).items()))), indent=2) + "\n")
    result = invoke("drift", str(out))
    assert result.exit_code == 1 and RELEASE_FILE in result.output, result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["version", "moved.from", "moved.to", "moved.since", "changelog.version", "changelog.lines", "grants", "format"]),
    value=st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3)),
)
def test_any_record_value_is_accepted_as_data_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory, field: str, value: Any) -> None:
    record = json.loads((Path(__file__).resolve().parent.parent / "modules" / "basic" / RELEASE_FILE).read_text())
    moved = {"from": "aws_iam_role.old", "to": "aws_iam_role.gone", "since": "1.0.0"}
    if field.startswith("moved."):
        record["moved"] = [{**moved, field.split(".")[1]: value}]
    elif field.startswith("changelog."):
        record["changelog"][0][field.split(".")[1]] = value
    elif field == "grants":
        record["grants"] = {str(value): []}
    else:
        record[field] = value
    try:
        parsed = ReleaseRecord.from_json(json.dumps(record))
    except OutputError as error:
        assert "\n" not in str(error) and str(error).startswith(f"{RELEASE_FILE}: not a valid release record (")
        event("refused")
        return
    event("accepted")
    import re

    for move in parsed.moved:  # what reaches moved.tf is an address, and nothing else
        assert re.fullmatch(RESOURCE_ADDRESS, move.source, re.ASCII) and re.fullmatch(RESOURCE_ADDRESS, move.target, re.ASCII)


# -- Values that become Terraform: keys and values through one escaping path -------------------


def test_object_keys_are_escaped_like_values_in_hcl_and_json() -> None:
    tags = {"${upper(terraform.workspace)}": "${path.cwd}", "%{for x in [1]}k%{endfor}": "v", "Team": "x", "for": "y", "null": "z"}
    hcl = render_value(tags, 0)
    assert '"$${upper(terraform.workspace)}" = "$${path.cwd}"' in hcl
    assert '"%%{for x in [1]}k%%{endfor}"' in hcl
    assert "\n  Team " in hcl and '\n  "for" ' in hcl and '\n  "null" ' in hcl  # HCL keywords are never bare keys
    assert json_value(tags) == {"$${upper(terraform.workspace)}": "$${path.cwd}", "%%{for x in [1]}k%%{endfor}": "v", "Team": "x", "for": "y", "null": "z"}


def test_hcl_strings_use_hcls_escapes_not_jsons() -> None:
    # hashicorp/hcl hclsyntax spec, "Template Literals": \n \r \t \" \\ \uNNNN \UNNNNNNNN only.
    assert render_value("\b\f\x00\x7f\x85\u2028", 0) == '"\\u0008\\u000c\\u0000\\u007f\\u0085\\u2028"'
    assert render_value('a"b\\c\n\r\t', 0) == '"a\\"b\\\\c\\n\\r\\t"'
    assert render_value("Zürich 😀", 0) == '"Zürich 😀"'  # attribute values keep their characters


def fleet_repo(tmp_path: Path, **fleet: Any) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    (repo / ".git").mkdir(exist_ok=True)
    (repo / "spec.toml").write_text(SPEC + '[role]\ndescription = "d"\n[module]\nvariables = ["role.description"]\n')
    data = {"version": 1, "spec": "spec.toml", "module": "modules/ssm", "backend": {"type": "none"},
            "accounts": [{"name": "prod", "id": "111122223333", "role_arn": "arn:aws:iam::111122223333:role/deployer"}], **fleet}
    (repo / "fleet.json").write_text(json.dumps(data))
    return repo / "fleet.json"


@pytest.mark.parametrize(
    ("module", "word"),
    [("/tmp/ssm-profile-escape", "is not a relative path"), ("../outside", "is not inside"), ("modules/../../outside", "is not inside"),
     (".", "is not inside"), ("link/inside", "is not inside"), ("C:\\\\modules", "is not a relative path")],
)
def test_the_fleet_module_path_stays_inside_the_repository(tmp_path: Path, module: str, word: str) -> None:
    fleet = fleet_repo(tmp_path, module=module)
    (fleet.parent / "link").symlink_to(tmp_path)
    result = invoke("fleet", str(fleet), "-o", str(fleet.parent / "live"))
    one_line_exit_2(result, "module: ", word, "allowed: a relative path to a folder inside the fleet file's repository")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"] and not Path("/tmp/ssm-profile-escape").exists()
    assert sorted(p.name for p in fleet.parent.iterdir()) == [".git", "fleet.json", "link", "spec.toml"]


def test_workspace_paths_from_folder_names_are_escaped(tmp_path: Path) -> None:
    fleet = fleet_repo(tmp_path, engines=["hcp-terraform"])
    live = fleet.parent / "live${path.cwd}"
    assert invoke("fleet", str(fleet), "-o", str(live)).exit_code == 0
    workspace = json.loads((live / "workspaces.tf.json").read_text())["resource"]["tfe_workspace"]["prod"]
    assert workspace["working_directory"] == "live$${path.cwd}/prod"
    assert workspace["organization"] == "${var.organization}"


def test_a_version_holding_unicode_digits_or_5000_digits_is_refused(tmp_path: Path) -> None:
    out = _module(tmp_path)
    one_line_exit_2(invoke("release", str(out), "--version", "1\u0660.0.0"), "--version", "is not a semantic version")
    one_line_exit_2(invoke("release", str(out), "--version", "9" * 5000 + ".0.0"), "--version", "5004 characters long")
    assert not (out / RELEASE_FILE).exists()


# -- Fleets of 5,000 accounts ------------------------------------------------------------------


def fleet_of(accounts: int) -> dict[str, Any]:
    """A large fleet as teams write it: each account with a network for four Regions."""
    network = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
               "security_group_ids": ["sg-0123456789abcdef0"], "route_table_ids": ["rtb-0123456789abcdef0"]}
    return {"version": 1, "spec": "spec.toml", "module": "modules/ssm", "engines": ["matrix"], "backend": {"type": "none"}, "accounts": [
        {"name": f"account-{i:05d}", "id": f"{100000000000 + i}", "role_arn": f"arn:aws:iam::{100000000000 + i}:role/terraform-deployer",
         "inputs": {"vpc_endpoint_network": {r: network for r in ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")}}}
        for i in range(accounts)]}


def fleet_toml(data: dict[str, Any]) -> str:
    lines = [f"version = 1\nspec = {json.dumps(data['spec'])}\nmodule = {json.dumps(data['module'])}\nengines = [\"matrix\"]\nbackend = {{ type = \"none\" }}"]
    for account in data["accounts"]:
        lines.append(f"\n[[accounts]]\nname = \"{account['name']}\"\nid = \"{account['id']}\"\nrole_arn = \"{account['role_arn']}\"")
        for region, network in account["inputs"]["vpc_endpoint_network"].items():
            lines.append(f"[accounts.inputs.vpc_endpoint_network.{region}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in network.items()]
    return "\n".join(lines) + "\n"


def test_a_fleet_of_5000_accounts_fits_the_fleet_limit(tmp_path: Path) -> None:
    import yaml

    data = fleet_of(5000)

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    sizes = {
        "toml": len(fleet_toml(data).encode()),
        "yaml": len(yaml.dump(data, Dumper=NoAliases, sort_keys=False).encode()),
        "json": len(json.dumps(data, indent=2).encode()),
    }
    assert sizes["toml"] > SPEC_FILE.max_bytes  # what the spec's limit refused
    assert max(sizes.values()) * 3 < FLEET_FILE.max_bytes, sizes  # room for larger fleets and inputs
    (tmp_path / "fleet.json").write_text(json.dumps(data, indent=2))
    assert len(load_fleet(tmp_path / "fleet.json").accounts) == 5000


def test_a_fleet_file_past_its_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    with path.open("wb") as file:
        file.truncate(FLEET_FILE.max_bytes + 1)
    one_line_exit_2(invoke("fleet", str(path), "-o", str(tmp_path / "live")), f"is larger than {FLEET_FILE.max_bytes // 2**20} MiB, the limit for a fleet file")


# -- Properties: fleet files and var files of any content keep the contract --------------------

#: Text of any Unicode scalar value (no lone surrogates: no file holds them as UTF-8).
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tags=st.dictionaries(st.one_of(ANY_TEXT, st.sampled_from(HOSTILE)), st.one_of(ANY_TEXT, st.sampled_from(HOSTILE)), max_size=6),
       description=st.one_of(ANY_TEXT, st.sampled_from(HOSTILE)), module=st.one_of(st.just("modules/ssm"), ANY_TEXT))
def test_any_fleet_generates_or_fails_in_one_line(tmp_path_factory: pytest.TempPathFactory, tags: dict[str, str], description: str, module: str) -> None:
    tmp = tmp_path_factory.mktemp("fleet")
    fleet = fleet_repo(tmp, module=module)
    data = json.loads(fleet.read_text())
    data["accounts"][0]["inputs"] = {"tags": tags, "role_description": description}
    fleet.write_text(json.dumps(data))
    try:
        output = generate_fleet(fleet, fleet.parent / "live")
    except SsmProfileError as error:
        assert "\n" not in str(error) and error.exit_code == 2
        event("refused")
        return
    event("generated")
    assert output.module_dir.resolve().is_relative_to(fleet.parent.resolve())
    main = output.live.files["prod/main.tf"]
    # Outside quoted strings the call holds only what the generator wrote: no template opener.
    for line in main.splitlines():
        assert "${" not in line.replace("$${", "") and "%{" not in line.replace("%%{", ""), line


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(["v.tfvars", "v.json"]), text=st.one_of(ANY_TEXT, st.sampled_from(HOSTILE),
       st.builds(lambda k, v: f"{k} = {json.dumps(v)}\n", st.sampled_from(["tags", "__x", "role_name"]), ANY_TEXT),
       st.builds(lambda v: json.dumps({"tags": v}), st.recursive(ANY_TEXT, lambda inner: st.lists(inner, max_size=3), max_leaves=8))))
def test_any_var_file_is_read_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory, name: str, text: str) -> None:
    module = Path(__file__).resolve().parent.parent / "modules" / "basic"
    path = tmp_path_factory.mktemp("var") / name
    path.write_text(text, encoding="utf-8")
    try:
        var_file = read_var_file(path, module)
    except SpecError as error:
        assert str(error).startswith(f"{path}") and "\n" not in str(error)
        event("refused")
        return
    event("read")
    assert set(var_file.names) <= {"tags"}


def test_the_record_and_manifest_limits_hold_their_largest_files() -> None:
    # The largest committed record and a 5,000-account manifest (2.0 MiB, measured) are far
    # below the limits; nesting of a record is 5 levels, of a manifest 2.
    records = list((Path(__file__).resolve().parent.parent / "modules").glob(f"*/{RELEASE_FILE}"))
    assert records and max(p.stat().st_size for p in records) * 100 < RELEASE_RECORD.max_bytes
    assert MANIFEST.max_bytes > 2 * 2**20 * 10


# -- The escaping proof: hostile text planned by real Terraform is literal ---------------------

#: A role description as IAM allows it (printable ASCII, Latin-1, tab, CR, LF) and as an attacker
#: writes it: template sequences, their escapes, quotes, backslashes and heredoc markers.
SPEC_DESCRIPTION = 'a ${x} %{ for y in [1] }z%{ endfor } $${y} %%{z} "q" \\ \\n <<EOF\nEOF\t\r ü $ %'
#: What a tag key or value may be for the offline plan: any Unicode scalar value but NUL, short,
#: mixed with the pieces of template and heredoc syntax a drawn string is made of.
TAG_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8)
FRAGMENTS = ["${", "%{", "$${", "%%{", "}", "$", "%", '"', "\\", "\n", "<<EOF\n", "\nEOF", "\x08", "\x0c", "\u2028", "😀"]


def _hostile_tags(drawn: list[str]) -> dict[str, str]:
    # Each value is a key and a value. Terraform normalises every string to Unicode NFC (HCL's
    # specification, "Template Literals"; in Terraform JSON too): keys unique in that form.
    values = list({unicodedata.normalize("NFC", value): value for value in [*HOSTILE, *drawn]}.values())
    tags = {value: values[(index + 1) % len(values)] for index, value in enumerate(values)}
    # A map key "%" is lost by the provider, not by Terraform: terraform-plugin-sdk v2 (which
    # aws_iam_role is written with) flattens a map into "tags.%" (its size) and "tags.KEY".
    tags.pop("%", None)
    return tags


def _nfc(tags: dict[str, str]) -> dict[str, str]:
    """What Terraform plans for ``tags``: every string in Unicode Normalization Form C."""
    return {unicodedata.normalize("NFC", key): unicodedata.normalize("NFC", value) for key, value in tags.items()}


def _planned_role(plan: dict[str, Any]) -> dict[str, Any]:
    roles = [c for c in plan["resource_changes"] if c["type"] == "aws_iam_role"]
    assert len(roles) == 1, [c["address"] for c in plan["resource_changes"]]
    return roles[0]["change"]["after"]


@pytest.mark.terraform
# One example of 40 drawn strings, no shrinking: each example costs two plans (~20 s each).
@settings(max_examples=1, deadline=None, phases=[Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=st.lists(st.builds("".join, st.lists(st.one_of(st.sampled_from(FRAGMENTS), TAG_TEXT), min_size=2, max_size=4)), min_size=40, max_size=40, unique=True))
def test_hostile_text_from_spec_and_fleet_is_literal_in_the_plan(tmp_path_factory: pytest.TempPathFactory, drawn: list[str]) -> None:
    """Two plans: a fleet's account root (HCL root calling the HCL module) and the module as
    Terraform JSON planned through the harness. The spec's description reaches Terraform as
    a variable default (literal in JSON, escaped in HCL); the fleet's tags as keys and values."""
    from ssm_profile.terraform.module_runs import plan_modules
    from ssm_profile.terraform.runner import default_runner
    from ssm_profile.tfmodule.example_values import OFFLINE_PROVIDER

    tmp = tmp_path_factory.mktemp("proof")
    tags = _hostile_tags(drawn)
    spec = tmp / "spec.toml"
    spec.write_text(SPEC + f"[role]\ndescription = {json.dumps(SPEC_DESCRIPTION)}\n[module]\nvariables = [\"role.description\"]\n")
    runner = default_runner()

    # 1. HCL: the fleet's root, its providers swapped for the offline one (no role to assume).
    fleet = fleet_repo(tmp)
    shutil.copy(spec, fleet.parent / "spec.toml")
    data = json.loads(fleet.read_text())
    data["accounts"][0]["inputs"] = {"tags": tags}
    fleet.write_text(json.dumps(data, ensure_ascii=False))
    assert invoke("fleet", str(fleet), "-o", str(fleet.parent / "live")).exit_code == 0
    for folder in (fleet.parent / "live", fleet.parent / "modules" / "ssm"):
        assert runner.fmt_check(folder) == [], folder  # terraform fmt -check: every generated file as fmt writes it
    root = fleet.parent / "live" / "prod"
    (root / "providers.tf").unlink()
    (root / "providers.tf.json").write_text(json.dumps({"provider": {"aws": [{"region": "us-east-1", **OFFLINE_PROVIDER}]}}))
    runner.init(root)
    runner.plan(root, "proof.tfplan")
    role = _planned_role(runner.show(root, "proof.tfplan"))
    assert role["tags"] == _nfc(tags)
    assert role["description"] == SPEC_DESCRIPTION

    # 2. Terraform JSON: the module's default literal, the tags through the harness's root.
    out = tmp / "json"
    assert invoke("generate", str(spec), "-o", str(out), "--format", "json").exit_code == 0
    (result,) = plan_modules([out], runner, offline=True, inputs={"tags": tags})
    assert result.error is None and result.plan is not None, result.error
    role = _planned_role(result.plan)
    assert role["tags"] == _nfc(tags)
    assert role["description"] == SPEC_DESCRIPTION


@pytest.mark.cdk
def test_the_cdk_engine_writes_hostile_text_as_the_native_json_does(tmp_path: Path) -> None:
    # Both engines write values through the same Terraform JSON body (literal defaults and
    # descriptions, escaped templates elsewhere): the modules hold the same JSON (CDK sorts keys).
    from ssm_profile.pipeline import generate

    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC + f"[role]\ndescription = {json.dumps(SPEC_DESCRIPTION)}\n[module]\nvariables = [\"role.description\"]\n")
    native = generate(spec, format="json", source="spec.toml")
    cdk = generate(spec, engine="cdk", source="spec.toml")
    assert json.loads(cdk.files["variables.tf.json"])["variable"]["role_description"]["default"] == SPEC_DESCRIPTION
    def tf_json(files: dict[str, str]) -> dict[str, Any]:
        return {name: json.loads(text) for name, text in files.items() if name.endswith(".tf.json")}

    assert tf_json(cdk.files) == tf_json(native.files)


def test_an_empty_fleet_file_says_what_a_fleet_file_needs(tmp_path: Path) -> None:
    (tmp_path / "fleet.toml").write_text("\n")
    one_line_exit_2(invoke("fleet", str(tmp_path / "fleet.toml"), "-o", str(tmp_path / "live")), "a fleet file needs at least `version = 1`, `spec` and `accounts`")
