"""Property-based hostile specs: whatever a spec file holds, the error contract holds.

Random wrong types in every field (the field list comes from the spec's own structs, so new
fields are covered as they are added), random Unicode and control characters, random nesting,
duplicate keys, YAML tags, byte-order marks, undecodable bytes and truncated files, in all three
formats. The contract: exit 0 with a module whose every file parses, or exit 2 with exactly one
line on stderr and nothing written; never a traceback. Run with ``--hypothesis-show-statistics``
to see how many cases ended which way.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import hcl2
import msgspec
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import invoke
from ssm_profile.errors import SpecError
from ssm_profile.spec.load import Spec, spec_from_data

BASE: dict[str, Any] = {
    "version": 1,
    "regions": ["us-east-2", "eu-west-1"],
    "role": {"name": "SSMRole", "tags": {"Team": "platform"}, "path": "/ssm/"},
    "s3": {"buckets": [{"name": "my-bucket"}], "vpc_endpoint": True},
    "session_manager": {"enabled": True, "s3_log_bucket": "my-logs", "s3_log_prefix": "logs/"},
}


def _field_paths() -> list[tuple[str, ...]]:
    """Every field of the spec, nested ones included, from the structs' type information."""
    found: list[tuple[str, ...]] = []

    def walk(info: Any, prefix: tuple[str, ...]) -> None:
        while isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        if isinstance(info, msgspec.inspect.StructType):
            for field in info.fields:
                found.append((*prefix, field.encode_name))
                walk(field.type, (*prefix, field.encode_name))

    walk(msgspec.inspect.type_info(Spec), ())
    return found


FIELD_PATHS = _field_paths()
STRUCT_PATHS = [()] + [p for p in FIELD_PATHS if p[-1] in {"role", "s3", "session_manager", "instance_profile", "limits"}]

NASTY_STRINGS = [
    "", "\n", "x\n", "Role\n", "R\u043ele", "*", "//", "/a//b/", "\u2028", "\x85", "\t", "\x00", "\u202e",
    "us-east-2\n", "us-east-2", "arn:aws:kms:us-east-2:111122223333:key/abc\n", "Team\n", "a" * 300,
    "2024-01-01", "yes", "~", "null", "!!set", "${var.x}", "%{ if }", "\"", "\\", "\ufeff", "é", "\ud800", "a\udfffb",
]
TEXT = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=30), st.text("aR/-_.\n\t ", max_size=12))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), TEXT
)
PLAIN = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)


# Text IAM's tag pattern allows ([\p{L}\p{Z}\p{N}_.:/=+\-@]), so valid specs keep turning up.
TAG_TEXT = st.text(st.characters(categories=["L", "N", "Z"]) | st.sampled_from("_.:/=+-@"), min_size=1, max_size=20)


@st.composite
def nested(draw: st.DrawFn) -> Any:
    """A value wrapped in up to 60 lists and maps."""
    value = draw(SCALARS)
    for _ in range(draw(st.integers(1, 60))):
        value = [value] if draw(st.booleans()) else {draw(TEXT): value}
    return value


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


@st.composite
def hostile_data(draw: st.DrawFn) -> dict[str, Any]:
    data = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "nested", "unknown", "tags", "iam-tags", "buckets", "regions"]))
        if kind == "field":
            _set(data, draw(st.sampled_from(FIELD_PATHS)), draw(PLAIN))
        elif kind == "nested":
            _set(data, draw(st.sampled_from(FIELD_PATHS)), draw(nested()))
        elif kind == "unknown":
            _set(data, (*draw(st.sampled_from(STRUCT_PATHS)), draw(TEXT)), draw(PLAIN))
        elif kind == "tags":
            _set(data, ("role", "tags"), draw(st.dictionaries(TEXT, TEXT, max_size=4)))
        elif kind == "iam-tags":
            tags = draw(st.dictionaries(TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:")), TAG_TEXT, max_size=4))
            _set(data, ("role", "tags"), tags)
        elif kind == "buckets":
            _set(data, ("s3", "buckets"), [{"name": name} for name in draw(st.lists(TEXT, max_size=3))])
        else:
            _set(data, ("regions",), draw(st.lists(TEXT | st.sampled_from(["us-east-1", "cn-north-1"]), max_size=3)))
    return data


# -- writing the data in each format, then damaging the text ---------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = "".join(c if c >= " " and c not in '"\\\x7f' else f"\\u{ord(c):04x}" for c in value)
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    return '""'  # TOML has no null


def serialise(data: dict[str, Any], kind: str, ascii_only: bool) -> str:
    if kind == "json":
        return json.dumps(data, ensure_ascii=ascii_only)
    if kind == "yaml":
        return yaml.safe_dump(data, allow_unicode=not ascii_only)
    return "".join(f"{_toml_value(k)} = {_toml_value(v)}\n" for k, v in data.items() if v is not None)


YAML_TAGGED = [
    "!!set {us-east-2: null}", "!!python/object/apply:os.getcwd []", "!!binary aGk=", "2024-01-01",
    "!!timestamp 2024-01-01T00:00:00Z", "!custom x", "!!omap [{a: 1}]", "&a [*a]", "!!bool maybe",
    "!!int 0x_", "!!float x", "!!null x", "!!str 1", "{<<: [1]}", "{<<: *nowhere}", "!!merge x",
]


@st.composite
def spec_files(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["json", "yaml", "toml"]))
    text = serialise(draw(hostile_data()), kind, draw(st.booleans()))
    damage = draw(st.sampled_from(["none", "none", "bom", "duplicate", "tag", "bytes", "truncate"]))
    if damage == "bom":
        text = "\ufeff" + text
    elif damage == "duplicate":
        text = {
            "json": text.replace("{", '{"version": 1, ', 1),
            "yaml": text + "version: 1\n",
            "toml": text + "version = 1\n",
        }[kind]
    elif damage == "tag" and kind == "yaml":
        text += f"{draw(st.sampled_from(['role', 'regions', 'extra']))}: {draw(st.sampled_from(YAML_TAGGED))}\n"
    elif damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    raw = text.encode("utf-8", "surrogatepass")
    if damage == "bytes":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"])) + raw[at:]
    event(f"format {kind}, damage {damage}")
    return kind, raw


def _parses(module: Path) -> None:
    for path in sorted(p for p in module.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".json"):
            json.loads(text)
        elif path.suffix == ".tf" or path.name.endswith(".tftest.hcl"):
            hcl2.loads(text)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(spec_files(), st.sampled_from(["hcl", "json"]))
def test_hostile_spec_files_keep_the_error_contract(spec_file: tuple[str, bytes], format_: str) -> None:
    kind, raw = spec_file
    with tempfile.TemporaryDirectory(prefix="ssm-profile-hostile-") as tmp:
        path = Path(tmp) / f"spec.{kind}"
        path.write_bytes(raw)
        out = Path(tmp) / "module"
        result = invoke("generate", str(path), "-o", str(out), "--format", format_)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            event("exit 0: module generated")
            _parses(out)
        else:
            event("exit 2: one-line error")
            assert result.exit_code == 2, result.output
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("ssm-profile: error: "), result.stderr
            assert result.stdout == "" and not out.exists()
            assert sorted(p.name for p in Path(tmp).iterdir()) == [path.name]


@settings(max_examples=1500, deadline=None)
@given(hostile_data())
def test_hostile_data_is_a_spec_or_one_spec_error(data: dict[str, Any]) -> None:
    """The library API: a Spec, or a SpecError of one printable line of bounded length."""
    try:
        spec_from_data(data)
    except SpecError as error:
        event("SpecError")
        message = str(error)
        assert message.isprintable() and len(message) <= 2400, message
    else:
        event("Spec")
