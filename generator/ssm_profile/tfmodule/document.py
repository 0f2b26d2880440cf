"""The Terraform document: blocks, values and expressions, independent of how they are written.

Stage 3 of the pipeline (:mod:`ssm_profile.tfmodule.build`) builds a :class:`Document`; the renderers
write the same document as HCL, Terraform JSON or CDK constructs, so every output format
carries exactly the same configuration. Expressions are trees of nodes (references, function
calls, operators, templates ...), never HCL text: the renderers print them
(:mod:`ssm_profile.render.expression`), release and the CDK construct walk them
(:func:`rewrite`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

from ..errors import shown

#: Files of a module, in the order they are written and listed.
MODULE_FILES = ("main", "variables", "outputs", "versions")


class Expr(msgspec.Struct, frozen=True):
    """A Terraform expression: printed in HCL syntax, and as ``"${...}"`` in Terraform JSON."""

    def attr(self, *names: str) -> Expr:
        """``self.name1.name2 ...``."""
        node: Expr = self
        for name in names:
            node = GetAttr(node, name)
        return node

    def index(self, key: Any) -> Expr:
        """``self[key]``."""
        return Index(self, key)


class Ref(Expr, frozen=True):
    """A named object of the configuration, by address: ``aws_iam_role.this``, ``var.tags``,
    ``data.aws_partition.current``, ``local.tags``, ``output.role_name``, or a ``for`` symbol."""

    address: str


class GetAttr(Expr, frozen=True):
    """``target.name``."""

    target: Expr
    name: str


class Index(Expr, frozen=True):
    """``target[key]``; ``key`` is a literal or an expression."""

    target: Expr
    key: Any


class Call(Expr, frozen=True):
    """A function call: ``name(args...)``."""

    name: str
    args: tuple[Any, ...] = ()


class Op(Expr, frozen=True):
    """A binary operation: ``left op right`` (``==``, ``&&``, ``<=`` ...)."""

    op: str
    left: Any
    right: Any


class Not(Expr, frozen=True):
    """``!operand``."""

    operand: Any


class Conditional(Expr, frozen=True):
    """``condition ? then : otherwise``."""

    condition: Any
    then: Any
    otherwise: Any


class For(Expr, frozen=True):
    """A list ``for`` expression: ``[for symbol in collection : result]``; ``result`` names ``Ref(symbol)``."""

    symbol: str
    collection: Any
    result: Any


class ListExpr(Expr, frozen=True):
    """A tuple inside an expression: ``[a, b]``, or one item per line when ``one_per_line``."""

    items: tuple[Any, ...]
    one_per_line: bool = False


class Template(Expr, frozen=True):
    """A string template: literal text and interpolated expressions, ``"arn:${local.partition}:..."``."""

    parts: tuple[Any, ...]


class Object(Expr, frozen=True):
    """An object on one line: ``{ key = value, ... }`` (the fields of an ``object(...)`` type)."""

    items: tuple[tuple[str, Any], ...]


class Bare(msgspec.Struct, frozen=True):
    """Written bare in HCL and as a plain string in Terraform JSON.

    For what Terraform reads as a keyword or address rather than an expression: a type
    keyword (``string``), a ``provider`` meta-argument (``aws.us_east_2``),
    ``configuration_aliases`` entries, ``moved`` addresses, a run's ``command``, an
    override's ``override_during``.
    """

    text: str


#: A managed resource's address inside a module: ``TYPE.NAME`` (a resource type is a provider's
#: lower-case prefix and ``_``-separated words; a name an HCL identifier). Modules generated here
#: use neither ``count`` nor ``for_each``, so an address has no index.
RESOURCE_ADDRESS = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+\.[A-Za-z_][A-Za-z0-9_-]*"
_RESOURCE_ADDRESS = re.compile(RESOURCE_ADDRESS)


class ResourceAddress(msgspec.Struct, frozen=True):
    """A resource address, written bare in HCL and as a plain string in Terraform JSON: what a
    ``moved`` block's ``from`` and ``to`` and an ``override_resource`` block's ``target`` take. Made by
    :meth:`parse`, so it is never anything else."""

    text: str

    @classmethod
    def parse(cls, text: str) -> ResourceAddress:
        """``text`` as an address; :class:`ValueError` unless it is exactly ``TYPE.NAME``."""
        if not isinstance(text, str) or _RESOURCE_ADDRESS.fullmatch(text) is None:
            raise ValueError(f"{shown(text)} is not a resource address (TYPE.NAME, such as aws_iam_role.this)")
        return cls(text)


class TypeConstraint(msgspec.Struct, frozen=True):
    """A variable's type constraint: a type expression, written bare in HCL and as a string in
    Terraform JSON, e.g. ``TypeConstraint(call("map", Bare("string")))`` for ``map(string)``."""

    type: Any


def ref(address: str) -> Ref:
    """A reference to the object at ``address``."""
    return Ref(address)


def var(name: str) -> Ref:
    """``var.<name>``."""
    return Ref(f"var.{name}")


def local(name: str) -> Ref:
    """``local.<name>``."""
    return Ref(f"local.{name}")


def call(name: str, *args: Any) -> Call:
    """``name(args...)``."""
    return Call(name, args)


def all_of(*terms: Any) -> Any:
    """``a && b && c``."""
    node = terms[0]
    for term in terms[1:]:
        node = Op("&&", node, term)
    return node


class Block(msgspec.Struct, frozen=True):
    """A block: ``kind "label" ... { body }``. Nested blocks sit in ``body`` as lists of Blocks."""

    kind: str
    labels: tuple[str, ...] = ()
    body: dict[str, Any] = {}
    comment: tuple[str, ...] = ()
    file: str = "main"

    @property
    def address(self) -> str:
        """The configuration address, e.g. ``aws_iam_role.this`` or ``data.aws_partition.current``."""
        if self.kind == "resource":
            return ".".join(self.labels)
        if self.kind == "data":
            return "data." + ".".join(self.labels)
        return ".".join((self.kind, *self.labels))


class Document(msgspec.Struct, frozen=True):
    """A Terraform module: an ordered list of top-level blocks, each assigned to a file."""

    blocks: tuple[Block, ...]

    def files(self) -> dict[str, list[Block]]:
        """Blocks grouped by file, in :data:`MODULE_FILES` order."""
        grouped: dict[str, list[Block]] = {name: [] for name in MODULE_FILES}
        for block in self.blocks:
            grouped.setdefault(block.file, []).append(block)
        return grouped

    def of_kind(self, kind: str) -> list[Block]:
        """Every top-level block of ``kind`` (``variable``, ``output``, ``resource`` ...)."""
        return [block for block in self.blocks if block.kind == kind]


def nested(*blocks: Block) -> list[Block]:
    """Nested blocks of one type, for a block body: ``{"statement": nested(a, b)}``."""
    return list(blocks)


def is_nested_blocks(value: Any) -> bool:
    """Whether a body value is a list of nested blocks (rather than a list attribute)."""
    return isinstance(value, list) and bool(value) and all(isinstance(item, Block) for item in value)


def rewrite(value: Any, change: Callable[[Expr], Any]) -> Any:
    """``value`` with each expression node ``change`` answers for replaced by its answer.

    ``change`` sees a node before its children and returns the replacement, or ``None`` to keep
    the node and look inside it. Walks documents, blocks, type constraints, lists, dicts (keys
    too) and every expression.
    """
    if isinstance(value, Expr):
        replacement = change(value)
        if replacement is not None:
            return replacement
    if isinstance(value, msgspec.Struct):
        fields = {name: rewrite(getattr(value, name), change) for name in value.__struct_fields__}
        return msgspec.structs.replace(value, **fields)
    if isinstance(value, (list, tuple)):
        return type(value)(rewrite(item, change) for item in value)
    if isinstance(value, dict):
        return {rewrite(key, change): rewrite(item, change) for key, item in value.items()}
    return value
