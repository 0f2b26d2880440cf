"""Stage 1a: a spec file becomes plain data, whatever the file holds.

The outcome is either plain data — strings, integers, numbers, true/false, null, lists and maps
with string keys, nested at most :data:`MAX_DEPTH` levels — or one
:class:`~ssm_profile.errors.SpecError` naming the file or the field path: a missing, unreadable
or non-UTF-8 file, a duplicate key (in every format), a YAML tag, a non-string key, nesting that
would exhaust the parser's recursion. :mod:`ssm_profile.spec.load` then checks that data against the
spec's shape.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import SpecError, key_path, shown
from ..intake import SPEC_FILE, FileKind, read_text

SPEC_SUFFIXES = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}

#: The spec's limits (:data:`ssm_profile.intake.SPEC_FILE`); a fleet file has its own.
MAX_DEPTH = SPEC_FILE.max_depth
MAX_SPEC_BYTES = SPEC_FILE.max_bytes
TOO_DEEP = SPEC_FILE.too_deep
#: Values a YAML file may expand to through aliases (a "billion laughs" file expands to 10^9).
MAX_YAML_VALUES = SPEC_FILE.max_values

Parts = tuple[str | int, ...]
PathOf = Callable[[Parts], str]


def plain_path(parts: Parts) -> str:
    """A field path without knowledge of the spec's shape: ``a.b[0]["odd key"]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            text = f"{text}.{part}" if text else part
        else:
            text = key_path(text or "spec", part)
    return text or "spec"


def read_spec_text(path: Path, limits: FileKind = SPEC_FILE) -> tuple[str, str]:
    """The text of the spec (or fleet) file at ``path`` and its kind (TOML, YAML or JSON), read
    through the bounded reader with the limits of ``limits``."""
    source = str(path)
    kind = SPEC_SUFFIXES.get(path.suffix.lower())
    if kind is None and path.is_dir():
        raise SpecError(source, f"is a folder; give the spec file itself ({', '.join('*' + s for s in SPEC_SUFFIXES)})")
    if kind is None:
        raise SpecError(source, f"unknown {limits.name} type {shown(path.suffix)}; allowed: {', '.join(SPEC_SUFFIXES)}")
    # The path is recorded in the one-line header of every generated file and in the manifest.
    if not _is_utf8(source):
        shown_name = os.fsencode(source).decode("utf-8", "backslashreplace")
        raise SpecError(shown_name, "the file name is not UTF-8; rename the file")
    breaking = next((c for c in str(path.absolute()) if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
    if breaking is not None:
        raise SpecError(source, f"the path holds the control character {shown(breaking)}; rename it")
    text = read_text(path, limits, source=source)
    assert text is not None  # missing_ok is off: a missing file is an error
    return text, kind


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates (PEP 383)
        return False
    return True


def parse_text(text: str, kind: str, source: str, path_of: PathOf = plain_path, limits: FileKind = SPEC_FILE) -> Any:
    """Parse spec text of ``kind`` (TOML, YAML or JSON) into plain data.

    ``source`` names the file in messages; ``path_of`` turns a key path into a field path;
    ``limits`` bounds nesting and YAML's expansion (a fleet file's differ from a spec's).
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        needs = "`version = 1` and `regions`" if limits is SPEC_FILE else "`version = 1`, `spec` and `accounts`"
        raise SpecError(source, f"the file is empty; a {limits.name} needs at least {needs}")
    try:
        if kind == "YAML":
            return _from_yaml(text, source, path_of, limits)
        if kind == "TOML":
            import tomllib

            check_toml_nesting(text, source, limits)
            try:
                raw = tomllib.loads(text)  # rejects duplicate keys itself, but may not say which
            except tomllib.TOMLDecodeError as exc:
                duplicate = _toml_duplicate(text) if "overwrite" in str(exc) or "twice" in str(exc) else None
                if duplicate is None:
                    raise
                raise SpecError(path_of(duplicate), "the key is given twice; give each key once") from None
        else:
            raw = json.loads(text, object_pairs_hook=_JsonObject, parse_constant=_no_constant)
        return _plain(raw, (), path_of, limits)
    except RecursionError:  # the parsers recurse per level; the limit is reached before ours
        raise SpecError(source, limits.too_deep) from None
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError
        if "integer string conversion" in str(exc):  # Python's guard against quadratic int parsing
            raise SpecError(source, f"holds a number of more than {sys.get_int_max_str_digits()} digits") from None
        raise SpecError(source, f"not valid {kind}: {_one_line(str(exc))}") from None


# A dotted key or table header of more than MAX_DEPTH parts (a.b.c... = 1, [a.b.c...]): tomllib
# spends time and memory quadratic in the parts (100,000 parts exhaust gigabytes), so such a
# key is refused before parsing. Only keys at the start of a line or inside an inline table match.
_TOML_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
def check_toml_nesting(text: str, source: str, limits: FileKind) -> None:
    """A :class:`SpecError` when TOML text has a dotted key or table header deeper than ``limits`` allows."""
    if _toml_deep_key(limits.max_depth).search(text):
        raise SpecError(source, limits.too_deep)


@functools.cache
def _toml_deep_key(depth: int) -> re.Pattern[str]:
    return re.compile(rf"(?:^|[{{,])[ \t]*\[{{0,2}}[ \t]*{_TOML_PART}(?:[ \t]*\.[ \t]*{_TOML_PART}){{{depth},}}", re.M)


def _toml_duplicate(text: str) -> Parts | None:
    """The first key a TOML text defines twice, found line by line (tomllib says only "at end of document")."""
    seen: set[Parts] = set()
    arrays: dict[Parts, int] = {}
    table: Parts = ()
    in_string = ""
    for line in text.splitlines():
        stripped = line.strip()
        if in_string:  # inside a multi-line string: no keys here
            in_string = "" if line.count(in_string) % 2 else in_string
            continue
        header = re.fullmatch(r"(\[\[?)[ \t]*(.+?)[ \t]*\]\]?[ \t]*(#.*)?", stripped)  # TOML's whitespace: space, tab
        key = re.match(rf"({_TOML_PART}(?:[ \t]*\.[ \t]*{_TOML_PART})*)[ \t]*=(.*)", stripped)
        if header and header[1] == "[[":
            parts = _toml_key(header[2])
            arrays[parts] = arrays.get(parts, -1) + 1
            table = (*parts, arrays[parts])
        elif header:
            table = _toml_key(header[2])
            if table in seen:
                return table
            seen.add(table)
        elif key:
            full = (*table, *_toml_key(key[1]))
            if full in seen:
                return full
            seen.add(full)
            in_string = next((q for q in ('"""', "'''") if key[2].count(q) % 2), "")
    return None


def _toml_key(text: str) -> tuple[str, ...]:
    return tuple(_toml_key_part(part) for part in re.findall(_TOML_PART, text))


def _toml_key_part(part: str) -> str:
    if part.startswith('"'):
        try:
            return str(json.loads(part))  # TOML's basic-string escapes are JSON's, plus \UXXXXXXXX
        except ValueError:
            return part[1:-1]
    return part.strip("'")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


class _JsonObject(list):  # type: ignore[type-arg]
    """A JSON object's (key, value) pairs in file order, so a duplicate key can be named."""


def _plain(value: Any, parts: Parts, path_of: PathOf, limits: FileKind = SPEC_FILE) -> Any:
    """Plain data from parsed JSON or TOML: duplicate keys refused, depth bounded."""
    if isinstance(value, (dict, list)) and len(parts) >= limits.max_depth:
        raise SpecError(path_of(parts), limits.too_deep)
    if isinstance(value, _JsonObject):
        result: dict[str, Any] = {}
        for key, item in value:
            if key in result:
                raise SpecError(path_of((*parts, key)), "the key is given twice; give each key once")
            result[key] = _plain(item, (*parts, key), path_of, limits)
        return result
    if isinstance(value, dict):
        return {key: _plain(item, (*parts, key), path_of, limits) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, (*parts, index), path_of, limits) for index, item in enumerate(value)]
    return value


# -- YAML: only plain types ------------------------------------------------------------------

_YAML = "tag:yaml.org,2002:"
_YAML_SCALARS = {f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null")}
_YAML_TAG_WORDS = {
    f"{_YAML}timestamp": "a YAML date is not allowed; quote it to make it a string",
    f"{_YAML}set": "a YAML set is not allowed; write a list",
    f"{_YAML}omap": "a YAML ordered map is not allowed; write a map",
    f"{_YAML}pairs": "a YAML list of pairs is not allowed; write a map",
}
_PLAIN_ONLY = "a spec holds only strings, numbers, true/false, null, lists and maps"


def _from_yaml(text: str, source: str, path_of: PathOf, limits: FileKind) -> Any:
    import yaml

    # libyaml's parser refuses nesting beyond 1,000 levels by itself; the pure-Python one
    # recurses into a RecursionError, which parse_text turns into the same message.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _YamlPlain(loader, path_of, limits).convert(node, ())
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(exc):
            raise SpecError(source, limits.too_deep) from None
        raise SpecError(source, f"not valid YAML: {_one_line(str(exc))}") from None
    finally:
        loader.dispose()


class _YamlPlain:
    """Turns a composed YAML node graph into plain data, refusing what is not plain."""

    def __init__(self, loader: Any, path_of: PathOf, limits: FileKind) -> None:
        self.loader = loader
        self.path_of = path_of
        self.limits = limits
        self.values = 0

    def convert(self, node: Any, parts: Parts) -> Any:
        import yaml

        self.values += 1
        if self.values > self.limits.max_values:
            raise SpecError(self.path_of(parts), f"expands to more than {self.limits.max_values} values through YAML aliases")
        tag = node.tag
        short_tag = "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag
        if isinstance(node, yaml.ScalarNode) and tag in _YAML_SCALARS:
            try:
                return self.loader.yaml_constructors[tag](self.loader, node)
            except (KeyError, ValueError) as exc:  # an explicit tag on text it does not fit: !!bool maybe
                if "integer string conversion" in str(exc):
                    raise
                raise SpecError(self.path_of(parts), f"{shown(node.value)} is not a valid {short_tag}") from None
        if isinstance(node, yaml.SequenceNode) and tag == f"{_YAML}seq":
            self._check_depth(parts)
            return [self.convert(item, (*parts, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode) and tag == f"{_YAML}map":
            self._check_depth(parts)
            return self._mapping(node, parts)
        message = _YAML_TAG_WORDS.get(tag, f"the YAML tag {shown(short_tag)} is not allowed; {_PLAIN_ONLY}")
        raise SpecError(self.path_of(parts), message)

    def _check_depth(self, parts: Parts) -> None:
        if len(parts) >= self.limits.max_depth:
            raise SpecError(self.path_of(parts), self.limits.too_deep)

    def _mapping(self, node: Any, parts: Parts) -> dict[str, Any]:
        import yaml

        merged: dict[str, Any] = {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_YAML}merge":
                # "<<: *defaults": keys given in the map win over merged ones (YAML merge key spec);
                # of several merged maps, the earlier wins.
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in reversed(sources):
                    extra = self.convert(source, parts)
                    if not isinstance(extra, dict):
                        raise SpecError(self.path_of(parts), "a YAML merge key (<<) must name a map")
                    merged.update(extra)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError(self.path_of(parts), "a list or map is used as a key; keys are names")
            if key_node.tag != f"{_YAML}str":
                raise SpecError(
                    self.path_of(parts),
                    f"the key {shown(self.convert(key_node, parts))} is not a string; keys are names (quote it)",
                )
            key = key_node.value
            if key in result:
                raise SpecError(self.path_of((*parts, key)), "the key is given twice; give each key once")
            result[key] = self.convert(value_node, (*parts, key))
        return {**{k: v for k, v in merged.items() if k not in result}, **result} if merged else result
