"""HCL renderer: a :class:`~ssm_profile.tfmodule.document.Document` as ``terraform fmt``-clean files.

Python lays out each top-level block's lines (quoting, indentation, blank lines, and the ``=``
alignment that ``terraform fmt`` applies to runs of single-line attributes); the Jinja template
only places the blocks under the header line. (A template macro per nested block and attribute
cost more than the rest of rendering: Jinja's macro calls, not the layout.)
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING, Any

from ..tfmodule.document import Bare, Block, Document, Expr, ResourceAddress, TypeConstraint, is_nested_blocks
from .expression import expression_text, hcl_string_text, literal_text
from .hcl_template import load_template

if TYPE_CHECKING:  # jinja2 is imported when the first HCL file is rendered
    import jinja2

MAX_INLINE_WIDTH = 100
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")  # \Z: "$" would pass a trailing newline
#: Words an object key cannot be bare: HCL reads them as literals (true, false, null) or as the
#: start of a ``for`` expression, not as the key's name.
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if"})


# Plain slotted classes, not dataclasses: nothing to compile at import (start-up, issue 16).
class _Attr:
    """``key = value`` (the value may span lines), with the padding that aligns its ``=``."""

    __slots__ = ("blank_before", "comment", "key", "pad", "value")

    def __init__(self, key: str, value: str) -> None:
        self.key, self.value, self.pad, self.blank_before, self.comment = key, value, "", False, ()


class _Nested:
    """A block: its comment lines, header (``kind "label"``) and items."""

    __slots__ = ("blank_before", "comment", "header", "items")

    def __init__(self, header: str, items: list[Any], comment: tuple[str, ...]) -> None:
        self.header, self.items, self.blank_before, self.comment = header, items, False, comment


@functools.cache
def _template() -> jinja2.Template:
    return load_template()


def render_files(document: Document, header: str) -> dict[str, str]:
    """Each non-empty file of the module, as HCL text keyed by file name (``main.tf`` ...)."""
    return {f"{name}.tf": render_blocks(blocks, header) for name, blocks in document.files().items() if blocks}


def render_blocks(blocks: list[Block], header: str) -> str:
    """One HCL file holding ``blocks`` under the header line (also used for ``.tftest.hcl`` files)."""
    return _template().render(header=header, blocks=["".join(_lines([_layout_block(b, 0)], "")) for b in blocks])


def _layout_block(block: Block, depth: int) -> _Nested:
    header = " ".join([block.kind, *(f'"{hcl_string_text(label)}"' for label in block.labels)])
    return _Nested(header=header, items=_layout_body(block.body, depth + 1), comment=block.comment)


def _layout_body(body: dict[str, Any], depth: int) -> list[Any]:
    items: list[Any] = []
    for key, value in body.items():
        if is_nested_blocks(value):
            for child in value:
                items.append(_layout_block(child, depth))
        else:
            items.append(_Attr(key=_key(key), value=render_value(value, depth)))
    _space_and_align(items)
    return items


def _lines(items: list[Any], indent: str) -> list[str]:
    """Laid-out items as lines of text (each ending in a newline), ``indent`` before each."""
    lines: list[str] = []
    for item in items:
        if item.blank_before:
            lines.append("\n")
        lines.extend(f"{indent}# {line}\n" for line in item.comment)
        if isinstance(item, _Attr):
            lines.append(f"{indent}{item.key}{item.pad} = {item.value}\n")
        elif item.items:
            lines.append(f"{indent}{item.header} {{\n")
            lines.extend(_lines(item.items, indent + "  "))
            lines.append(f"{indent}}}\n")
        else:
            lines.append(f"{indent}{item.header} {{}}\n")
    return lines


def _space_and_align(items: list[Any]) -> None:
    """Blank lines around nested blocks; align ``=`` in runs of single-line attributes."""
    for previous, item in itertools.pairwise(items):
        if isinstance(item, _Nested) or isinstance(previous, _Nested) or item.comment:
            item.blank_before = True
    run: list[_Attr] = []  # a run ends at a blank line, a nested block or a multi-line value
    for item in items:
        if isinstance(item, _Nested) or "\n" in item.value:
            _align(run)
            run = []
        elif item.blank_before:
            _align(run)
            run = [item]
        else:
            run.append(item)
    _align(run)


def _align(run: list[_Attr]) -> None:
    if not run:
        return
    width = max([len(a.key) for a in run])
    for attr in run:
        attr.pad = " " * (width - len(attr.key))


@functools.cache  # the same few keys recur in every block
def _key(key: str | Bare) -> str:
    if isinstance(key, Bare):  # a key Terraform reads as an address, e.g. a module's providers map
        return key.text
    # Any other key is a quoted template, escaped exactly as a value is (a key holding "${"
    # would otherwise be evaluated by Terraform), and ASCII: terraform fmt aligns the "=" after
    # keys by counting grapheme clusters, which only ASCII text counts as len() does.
    return key if _IDENTIFIER.match(key) and key not in _KEYWORDS else literal_text(key, ensure_ascii=True)


def render_value(value: Any, depth: int) -> str:
    """One value as HCL at nesting ``depth`` (two spaces each); may span lines."""
    if isinstance(value, str):
        return literal_text(value, ensure_ascii=False)
    if isinstance(value, (Expr, Bare, TypeConstraint, ResourceAddress)):
        return expression_text(value, depth)
    if value is None or isinstance(value, (bool, int)):
        return literal_text(value, ensure_ascii=False)
    if isinstance(value, list):
        return _render_list(value, depth)
    if isinstance(value, dict):
        return _render_object(value, depth)
    raise TypeError(f"cannot render {type(value).__name__} as HCL")


def _render_list(items: list[Any], depth: int) -> str:
    rendered = [render_value(item, depth + 1) for item in items]
    inline = "[" + ", ".join(rendered) + "]"
    if "\n" not in inline and len(inline) + 2 * depth + 24 <= MAX_INLINE_WIDTH:
        return inline
    indent = "  " * (depth + 1)
    return "[\n" + "".join(f"{indent}{item},\n" for item in rendered) + "  " * depth + "]"


def _render_object(mapping: dict[str, Any], depth: int) -> str:
    if not mapping:
        return "{}"
    attrs = [_Attr(key=_key(k), value=render_value(v, depth + 1)) for k, v in mapping.items()]
    _space_and_align(attrs)
    indent = "  " * (depth + 1)
    lines = "".join(f"{indent}{a.key}{a.pad} = {a.value}\n" for a in attrs)
    return "{\n" + lines + "  " * depth + "}"
