"""HCL's expression syntax: one :class:`~ssm_profile.document.Expr` tree as text.

Every renderer prints expressions through here: HCL writes the text in place, Terraform JSON
(and CDK through it) inside ``"${...}"``, release records keep a validation's condition as text.
"""

from __future__ import annotations

import json
from typing import Any

from ..document import Bare, Call, Conditional, Expr, For, GetAttr, Index, ListExpr, Not, Object, Op, Ref, Template, TypeConstraint

#: Binding strength of HCL's binary operators (the HCL native syntax specification, "Operations").
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6}
_CONDITIONAL, _UNARY, _PRIMARY = 0, 7, 8


def expression_text(node: Any, depth: int = 0) -> str:
    """``node`` in HCL expression syntax, nested ``depth`` levels deep (two spaces each)."""
    if isinstance(node, Ref):
        return node.address
    if isinstance(node, GetAttr):
        return f"{_operand(node.target, _PRIMARY, depth)}.{node.name}"
    if isinstance(node, Index):
        return f"{_operand(node.target, _PRIMARY, depth)}[{expression_text(node.key, depth)}]"
    if isinstance(node, Call):
        return f"{node.name}(" + ", ".join(expression_text(arg, depth) for arg in node.args) + ")"
    if isinstance(node, Op):
        strength = _PRECEDENCE[node.op]
        # Left-associative: a right operand of the same strength needs parentheses.
        return f"{_operand(node.left, strength, depth)} {node.op} {_operand(node.right, strength + 1, depth)}"
    if isinstance(node, Not):
        return "!" + _operand(node.operand, _UNARY, depth)
    if isinstance(node, Conditional):
        parts = (_operand(node.condition, _CONDITIONAL + 1, depth), expression_text(node.then, depth), expression_text(node.otherwise, depth))
        return "{} ? {} : {}".format(*parts)
    if isinstance(node, For):
        collection, result = expression_text(node.collection, depth), expression_text(node.result, depth)
        return f"[for {node.symbol} in {collection} : {result}]"
    if isinstance(node, ListExpr):
        return _list(node, depth)
    if isinstance(node, Object):
        fields = ", ".join(f"{key} = {expression_text(value, depth)}" for key, value in node.items)
        return "{ " + fields + " }" if fields else "{}"
    if isinstance(node, Template):
        return json.dumps(template_text(node), ensure_ascii=False)
    if isinstance(node, Bare):
        return node.text
    if isinstance(node, TypeConstraint):
        return expression_text(node.type, depth)
    return literal_text(node)


def template_text(node: Template) -> str:
    """A template's text without quotes: literal parts escaped, expressions as ``${...}``."""
    return "".join(
        "${" + expression_text(part) + "}" if isinstance(part, (Expr, Bare)) else escape_template(part) for part in node.parts
    )


def escape_template(text: str) -> str:
    """Literal text inside a template: HCL's template sequences doubled."""
    return text.replace("${", "$${").replace("%{", "%%{")


def _strength(node: Any) -> int:
    if isinstance(node, Op):
        return _PRECEDENCE[node.op]
    if isinstance(node, Conditional):
        return _CONDITIONAL
    if isinstance(node, Not):
        return _UNARY
    return _PRIMARY


def _operand(node: Any, needed: int, depth: int) -> str:
    text = expression_text(node, depth)
    return f"({text})" if _strength(node) < needed else text


def _list(node: ListExpr, depth: int) -> str:
    if not node.one_per_line:
        return "[" + ", ".join(expression_text(item, depth) for item in node.items) + "]"
    indent = "  " * (depth + 1)
    return "[\n" + "".join(f"{indent}{expression_text(item, depth + 1)},\n" for item in node.items) + "  " * depth + "]"


def literal_text(value: Any, ensure_ascii: bool = True) -> str:
    """A bool, null, number or string as an HCL literal (strings with HCL's template sequences
    escaped). Inside expressions strings are ASCII only, so a condition reads the same in HCL,
    Terraform JSON and release records; attribute values keep their characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return escape_template(json.dumps(value, ensure_ascii=ensure_ascii))
    raise TypeError(f"cannot write {type(value).__name__} inside an HCL expression")
