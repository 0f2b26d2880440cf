"""HCL's expression syntax: one :class:`~ssm_profile.tfmodule.document.Expr` tree as text.

Every renderer prints expressions through here: HCL writes the text in place, Terraform JSON
(and CDK through it) inside ``"${...}"``, release records keep a validation's condition as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..tfmodule.document import (
    Bare,
    Call,
    Conditional,
    Expr,
    For,
    GetAttr,
    Index,
    ListExpr,
    Not,
    Object,
    Op,
    Ref,
    ResourceAddress,
    Template,
    TypeConstraint,
)

#: Binding strength of HCL's binary operators (the HCL native syntax specification, "Operations").
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_CONDITIONAL, _UNARY, _PRIMARY = 0, 7, 8
_STRENGTHS: dict[type, int] = {Conditional: _CONDITIONAL, Not: _UNARY}


def expression_text(node: Any, depth: int = 0) -> str:
    """``node`` in HCL expression syntax, nested ``depth`` levels deep (two spaces each)."""
    printer = _PRINTERS.get(type(node))
    return printer(node, depth) if printer else literal_text(node)


def _get_attr(node: GetAttr, depth: int) -> str:
    return f"{_operand(node.target, _PRIMARY, depth)}.{node.name}"


def _index(node: Index, depth: int) -> str:
    return f"{_operand(node.target, _PRIMARY, depth)}[{expression_text(node.key, depth)}]"


def _call(node: Call, depth: int) -> str:
    return f"{node.name}(" + ", ".join(expression_text(arg, depth) for arg in node.args) + ")"


def _op(node: Op, depth: int) -> str:
    strength = _PRECEDENCE[node.op]
    # Left-associative: a right operand of the same strength needs parentheses.
    return f"{_operand(node.left, strength, depth)} {node.op} {_operand(node.right, strength + 1, depth)}"


def _conditional(node: Conditional, depth: int) -> str:
    parts = (_operand(node.condition, _CONDITIONAL + 1, depth), expression_text(node.then, depth), expression_text(node.otherwise, depth))
    return "{} ? {} : {}".format(*parts)


def _for(node: For, depth: int) -> str:
    collection, result = expression_text(node.collection, depth), expression_text(node.result, depth)
    return f"[for {node.symbol} in {collection} : {result}]"


def _object(node: Object, depth: int) -> str:
    fields = ", ".join(f"{key} = {expression_text(value, depth)}" for key, value in node.items)
    return "{ " + fields + " }" if fields else "{}"


def template_text(node: Template) -> str:
    """A template's text without quotes, for Terraform JSON (whose encoder escapes the string):
    literal parts with template sequences escaped, expressions as ``${...}``."""
    return "".join(
        "${" + expression_text(part) + "}" if isinstance(part, (Expr, Bare)) else escape_template(part) for part in node.parts
    )


def _hcl_template(node: Template, depth: int) -> str:
    """A template as an HCL quoted template: literal parts escaped as string literals and as
    template text, expressions as ``${...}`` (whose own strings stay unescaped: they are HCL)."""
    return '"' + "".join(
        "${" + expression_text(part) + "}" if isinstance(part, (Expr, Bare)) else escape_template(hcl_string_text(part))
        for part in node.parts
    ) + '"'


def escape_template(text: str) -> str:
    """Literal text inside a template: HCL's template sequences doubled.

    Every string Terraform reads as a template (HCL quoted strings, Terraform JSON string
    values and object keys) goes through here: ``${`` becomes ``$${`` and ``%{`` becomes
    ``%%{``, which Terraform reads back as the literal text.
    """
    return text.replace("${", "$${").replace("%{", "%%{")


#: HCL's escapes in quoted strings (hashicorp/hcl, hclsyntax/spec.md, "Template Literals"):
#: \n \r \t \" \\ and \uNNNN (a BMP code point) or \UNNNNNNNN (any code point). JSON's \b
#: and \f are not among them: Terraform rejects them ("Invalid escape sequence").
_HCL_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: What a quoted string escapes: the quote, the backslash, control characters (C0, DEL, C1)
#: and the line and paragraph separators, so a value stays on its line whatever it holds.
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029]')
#: Inside expressions strings are ASCII only: everything else as \u or \U escapes.
_NEEDS_ESCAPE_ASCII = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')


def _escaped_char(match: re.Match[str]) -> str:
    char = match[0]
    escape = _HCL_ESCAPES.get(char)
    if escape is not None:
        return escape
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def hcl_string_text(text: str, ascii_only: bool = False) -> str:
    """``text`` as the inside of an HCL quoted string (string escapes only, no template escaping)."""
    return (_NEEDS_ESCAPE_ASCII if ascii_only else _NEEDS_ESCAPE).sub(_escaped_char, text)


def _strength(node: Any) -> int:
    if type(node) is Op:
        return _PRECEDENCE[node.op]
    return _STRENGTHS.get(type(node), _PRIMARY)


def _operand(node: Any, needed: int, depth: int) -> str:
    text = expression_text(node, depth)
    return f"({text})" if _strength(node) < needed else text


def _list(node: ListExpr, depth: int) -> str:
    if not node.one_per_line:
        return "[" + ", ".join(expression_text(item, depth) for item in node.items) + "]"
    indent = "  " * (depth + 1)
    return "[\n" + "".join(f"{indent}{expression_text(item, depth + 1)},\n" for item in node.items) + "  " * depth + "]"


#: The printer of each node type: one dictionary look-up per node, where a chain of isinstance
#: tests cost most of rendering (start-up, issue 16). The node classes are final.
_PRINTERS: dict[type, Callable[[Any, int], str]] = {
    Ref: lambda node, depth: node.address,
    GetAttr: _get_attr,
    Index: _index,
    Call: _call,
    Op: _op,
    Not: lambda node, depth: "!" + _operand(node.operand, _UNARY, depth),
    Conditional: _conditional,
    For: _for,
    ListExpr: _list,
    Object: _object,
    Template: _hcl_template,
    Bare: lambda node, depth: node.text,
    ResourceAddress: lambda node, depth: node.text,
    TypeConstraint: lambda node, depth: expression_text(node.type, depth),
}


def literal_text(value: Any, ensure_ascii: bool = True) -> str:
    """A bool, null, number or string as an HCL literal (strings with HCL's template sequences
    escaped). Inside expressions strings are ASCII only, so a condition reads the same in HCL,
    Terraform JSON and release records; attribute values keep their characters."""
    if isinstance(value, str):
        return '"' + escape_template(hcl_string_text(value, ascii_only=ensure_ascii)) + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} inside an HCL expression")
