"""Terraform JSON renderer: the same :class:`~ssm_profile.tfmodule.document.Document` as ``*.tf.json``.

Terraform JSON has no comments except the ``"//"`` property, which carries the header line.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..tfmodule.document import Bare, Block, Document, Expr, ResourceAddress, Template, TypeConstraint, is_nested_blocks
from .expression import escape_template, expression_text, template_text


def render_files(document: Document, header: str) -> dict[str, str]:
    """Each non-empty file of the module as Terraform JSON text, keyed by file name."""
    return {f"{name}.tf.json": render_blocks(blocks, header) for name, blocks in document.files().items() if blocks}


def render_blocks(blocks: list[Block], header: str) -> str:
    """One Terraform JSON file holding ``blocks`` (also used for ``.tftest.json`` files)."""
    root: dict[str, Any] = {"//": header}
    for block in blocks:
        _place(root, block)
    # msgspec's C encoder and formatter give exactly json.dumps(indent=2, ensure_ascii=False)
    # at a fraction of the cost of the stdlib's pure-Python indenting encoder.
    return msgspec.json.format(msgspec.json.encode(root), indent=2).decode() + "\n"


#: Blocks that may repeat with the same labels: Terraform JSON takes them as a list.
_REPEATABLE_LABELLED = ("provider", "mock_provider")


#: Arguments Terraform JSON takes as literal values, not templates or expressions: a variable's
#: default and description, an output's description (https://developer.hashicorp.com/terraform/language/syntax/json,
#: "variable blocks" and "output blocks"). Escaping "${" there would change the value: Terraform
#: plans a description "${x}" written as "$${x}" as "$${x}".
_LITERAL_ARGUMENTS = {"variable": ("default", "description"), "output": ("description",)}


def body_json(block: Block) -> dict[str, Any]:
    """A block's body as Terraform JSON (also what the CDK engine declares): values as
    :func:`json_value` writes them, except the arguments Terraform reads literally."""
    literal = _LITERAL_ARGUMENTS.get(block.kind, ())
    return {key: _literal(value) if key in literal else _value(value) for key, value in block.body.items()}


def _literal(value: Any) -> Any:
    """A literal value as JSON, as it is: strings and keys unescaped."""
    if isinstance(value, list):
        return [_literal(item) for item in value]
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, (Expr, Bare, TypeConstraint, ResourceAddress)):
        raise TypeError("a literal argument cannot hold an expression")
    return value


def _place(root: dict[str, Any], block: Block) -> None:
    body = body_json(block)
    if block.kind in ("locals", "terraform", "variables"):
        root.setdefault(block.kind, {}).update(body)
        return
    if block.kind in ("moved", "import", "override_resource"):
        root.setdefault(block.kind, []).append(body)
        return
    if block.kind in _REPEATABLE_LABELLED:
        root.setdefault(block.kind, {}).setdefault(block.labels[0], []).append(body)
        return
    node = root.setdefault(block.kind, {})
    for label in block.labels[:-1]:
        node = node.setdefault(label, {})
    node[block.labels[-1]] = body


def _body(body: dict[str, Any]) -> dict[str, Any]:
    return {key: _value(value) for key, value in body.items()}


def _labelled(children: list[Block]) -> dict[str, Any]:
    """Nested blocks with labels (``mock_data "aws_partition" {}``) as objects keyed by label."""
    node: dict[str, Any] = {}
    for child in children:
        target = node
        for label in child.labels[:-1]:
            target = target.setdefault(label, {})
        target[child.labels[-1]] = _body(child.body)
    return node


def json_value(value: Any) -> Any:
    """One document value as Terraform JSON: ``Expr`` as ``"${...}"``, nested blocks as objects.

    The CDK renderer writes every value through this too, so both engines spell values alike.
    """
    return _value(value)


def _value(value: Any) -> Any:
    # The commonest kinds first: a literal string, then an expression.
    if isinstance(value, str):
        # Literal strings are templates in Terraform JSON too: escape template sequences.
        return escape_template(value)
    if isinstance(value, Template):
        return template_text(value)
    if isinstance(value, Expr):
        return "${" + expression_text(value) + "}"
    if isinstance(value, (Bare, TypeConstraint, ResourceAddress)):  # what Terraform JSON takes as a plain string
        return expression_text(value)
    if is_nested_blocks(value):
        if value[0].labels:
            return _labelled(value)
        return [_body(child.body) for child in value]
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, dict):
        # Object keys are templates too (HCL JSON spec, "Expression Evaluation"): escaped as values are.
        return {(key.text if isinstance(key, Bare) else escape_template(key)): _value(item) for key, item in value.items()}
    return value
