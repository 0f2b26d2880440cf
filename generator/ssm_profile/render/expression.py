"""HCL's expression syntax: one :class:`~ssm_profile.tfmodule.document.Expr` tree as text.

Every renderer prints expressions through here: HCL writes the text in place, Terraform JSON
(and CDK through it) inside ``"${...}"``, release records keep a validation's condition as text.
"""

from __future__ import annotations

from collections.abc import Callable

# json.dumps of a string is one of these two C functions (JSONEncoder.encode); calling them
# directly skips building a JSONEncoder per call, which json.dumps(ensure_ascii=False) does.
from json.encoder import encode_basestring, encode_basestring_ascii
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
    """A template's text without quotes: literal parts escaped, expressions as ``${...}``."""
    return "".join(
        "${" + expression_text(part) + "}" if isinstance(part, (Expr, Bare)) else escape_template(part) for part in node.parts
    )


def escape_template(text: str) -> str:
    """Literal text inside a template: HCL's template sequences doubled."""
    return text.replace("${", "$${").replace("%{", "%%{")


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
    Template: lambda node, depth: encode_basestring(template_text(node)),
    Bare: lambda node, depth: node.text,
    TypeConstraint: lambda node, depth: expression_text(node.type, depth),
}


def literal_text(value: Any, ensure_ascii: bool = True) -> str:
    """A bool, null, number or string as an HCL literal (strings with HCL's template sequences
    escaped). Inside expressions strings are ASCII only, so a condition reads the same in HCL,
    Terraform JSON and release records; attribute values keep their characters."""
    if isinstance(value, str):
        return escape_template(encode_basestring_ascii(value) if ensure_ascii else encode_basestring(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} inside an HCL expression")
