"""Stage 1b: plain data is checked against the spec's declared shape.

The shape is declared once, as the msgspec structs of :mod:`ssm_profile.spec.model`; their type
information (:func:`msgspec.inspect.type_info`) says which fields exist, which are required and
each value's type, length, pattern and bounds. This module walks the data and that structured
description together, so a problem is reported with its full field path — map keys included,
``role.tags["Team"]`` — in this project's words, without parsing msgspec's English messages.
Patterns are matched in full (:func:`re.fullmatch`), so a trailing newline never passes.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from msgspec import inspect as mi

from ..aws.partitions import suggest
from ..errors import SpecError, key_path, shown


def check_shape(data: Any, struct: type, pattern_help: dict[str, str]) -> None:
    """Raise a :class:`SpecError` for the first place where ``data`` breaks ``struct``'s shape.

    ``pattern_help`` says in words what each declared pattern allows.
    """
    _Walker(pattern_help).check(data, _type_info(struct), "")


def field_path(struct: type, parts: tuple[str | int, ...]) -> str:
    """The field path of ``parts`` inside ``struct``: ``s3.buckets[0].name``, ``role.tags["Team"]``.

    Map keys are quoted; names in a struct (fields, or unknown keys that look like names) are dotted.
    """
    info: Any = _type_info(struct)
    text = ""
    for part in parts:
        info = _unwrap(info)
        if isinstance(info, mi.UnionType):  # a value that may be a string or a table: the container
            wanted = mi.ListType if isinstance(part, int) else (mi.DictType, mi.StructType)
            info = next((m for m in map(_unwrap, info.types) if isinstance(m, wanted)), None)
        if isinstance(part, int):
            text += f"[{part}]"
            info = info.item_type if isinstance(info, mi.ListType) else None
        elif isinstance(info, mi.DictType):
            text = key_path(text or "spec", part)
            info = info.value_type
        else:
            text = _member_path(text, part)
            fields = {f.encode_name: f.type for f in info.fields} if isinstance(info, mi.StructType) else {}
            info = fields.get(part)
    return text or "spec"


def _member_path(path: str, name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        return f"{path}.{name}" if path else name
    return key_path(path or "spec", name)


@functools.cache  # built once per process: drift and fleet check many specs
def _type_info(struct: type) -> Any:
    return mi.type_info(struct)


def _unwrap(info: Any) -> Any:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


_TYPE_WORDS: dict[type, str] = {
    mi.StrType: "a string",
    mi.IntType: "an integer",
    mi.FloatType: "a number",
    mi.BoolType: "true or false",
    mi.ListType: "a list",
    mi.DictType: "a table",
    mi.StructType: "a table",
    mi.NoneType: "nothing (null)",
}


def _expected(info: Any) -> str:
    if isinstance(info, mi.LiteralType):
        return " or ".join(sorted({_got(value) for value in info.values}))
    if isinstance(info, mi.UnionType):
        return " or ".join(_expected(_unwrap(member)) for member in info.types)
    return _TYPE_WORDS.get(type(info), "another kind of value")


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"a {type(value).__name__}"
    kinds = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    if isinstance(value, (set, frozenset)):
        return "a set (unordered; give a list)"
    return "nothing (null)" if value is None else kinds.get(type(value), type(value).__name__)


def _fits(value: Any, info: Any) -> bool:
    """Whether ``value`` is of the basic kind ``info`` describes (constraints aside)."""
    if isinstance(info, mi.LiteralType):
        return any(type(value) is type(allowed) and value == allowed for allowed in info.values)
    if isinstance(info, mi.BoolType):
        return isinstance(value, bool)
    if isinstance(info, mi.IntType):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(info, mi.FloatType):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    # A tuple is an ordered list and any mapping a table (the Python API and the CDK construct pass
    # them); a set is refused, as YAML's !!set is: its order, and so the output, would depend on
    # the hash seed.
    kinds: dict[type, type | tuple[type, ...]] = {mi.StrType: str, mi.ListType: (list, tuple), mi.DictType: Mapping, mi.StructType: Mapping}
    if type(info) in kinds:
        return isinstance(value, kinds[type(info)])
    if isinstance(info, mi.NoneType):
        return value is None
    return isinstance(info, mi.AnyType)


class _Walker:
    def __init__(self, pattern_help: dict[str, str]) -> None:
        self.pattern_help = pattern_help

    def check(self, value: Any, info: Any, path: str) -> None:
        info = _unwrap(info)
        if isinstance(info, mi.UnionType):
            member = next((m for m in map(_unwrap, info.types) if _fits(value, m)), None)
            if member is None:
                raise SpecError(path or "spec", f"expected {_expected(info)}, got {_got(value)}")
            info = member
        if isinstance(info, mi.LiteralType):
            if not any(type(value) is type(allowed) for allowed in info.values):
                raise SpecError(path or "spec", f"expected {_expected(info)}, got {_got(value)}")
            if not _fits(value, info):
                allowed = ", ".join(msgspec.json.encode(v).decode() for v in info.values)
                raise SpecError(path, f"{shown(value)} is not allowed; allowed: {allowed}")
            return
        if not _fits(value, info):
            raise SpecError(path or "spec", f"expected {_expected(info)}, got {_got(value)}")
        if isinstance(info, mi.StructType):
            self._struct(value, info, path)
        elif isinstance(info, (mi.ListType, mi.DictType)):
            self._length(len(value), info, path, "entries")
            if isinstance(info, mi.ListType):
                for index, item in enumerate(value):
                    self.check(item, info.item_type, f"{path}[{index}]")
            else:
                for key, item in value.items():
                    self.check(key, info.key_type, key_path(path, key))
                    self.check(item, info.value_type, key_path(path, key))
        elif isinstance(info, mi.StrType):
            self._length(len(value), info, path, "characters")
            if info.pattern and not re.fullmatch(info.pattern, value):
                raise SpecError(path, self._pattern_message(value, info.pattern))
        elif isinstance(info, (mi.IntType, mi.FloatType)):
            self._bounds(value, info, path)

    def _struct(self, value: Mapping[Any, Any], info: Any, path: str) -> None:
        fields = {f.encode_name: f for f in info.fields}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(path or "spec", f"the key {shown(key)} is not a string; keys are field names")
            where = _member_path(path, key)
            if key not in fields:
                allowed = sorted(fields)
                raise SpecError(where, f"unknown field{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
            self.check(item, fields[key].type, where)
        for name, spec_field in fields.items():
            if spec_field.required and name not in value:
                raise SpecError(f"{path}.{name}" if path else name, "is required")

    @staticmethod
    def _length(length: int, info: Any, path: str, noun: str) -> None:
        if info.min_length is not None and length < info.min_length:
            raise SpecError(path, f"must have at least {info.min_length} {noun}")
        if info.max_length is not None and length > info.max_length:
            raise SpecError(path, f"must have at most {info.max_length} {noun}")

    @staticmethod
    def _bounds(value: float, info: Any, path: str) -> None:
        allowed = f" (allowed: {info.ge} to {info.le})" if info.ge is not None and info.le is not None else ""
        checks: tuple[tuple[float | None, str, Callable[[float], bool]], ...] = (
            (info.ge, "at least", lambda b: value < b),
            (info.gt, "more than", lambda b: value <= b),
            (info.le, "at most", lambda b: value > b),
            (info.lt, "less than", lambda b: value >= b),
        )
        for bound, words, broken in checks:
            if bound is not None and broken(bound):
                raise SpecError(path, f"must be {words} {bound}{allowed}")

    def _pattern_message(self, value: str, pattern: str) -> str:
        help_text = self.pattern_help.get(pattern, f"a match of the pattern {pattern}")
        message = f"must use only {help_text}" if help_text.startswith(("letters", "ASCII")) else f"must be {help_text}"
        # For a pattern of one character class, point at the first character outside it.
        single_class = re.fullmatch(r"\^?(\[[^\]]*\])[*+]\$?", pattern)
        bad = next((c for c in value if not re.fullmatch(single_class[1], c)), None) if single_class else None
        if bad is not None:
            return f"{message}; {character_name(bad)} is not allowed"
        return f"{message}; got {shown(value)}"


def character_name(char: str) -> str:
    """A character for a message, visible whatever it is: ``'о' (U+043E CYRILLIC SMALL LETTER O)``."""
    name = unicodedata.name(char, "")
    return f"{shown(char)} (U+{ord(char):04X}{' ' + name if name else ''})"
