"""The Terraform document: blocks and values, independent of how they are written.

Stage 3 of the pipeline (:mod:`ssm_profile.module`) builds a :class:`Document`; the renderers
write the same document as HCL, Terraform JSON or CDK constructs, so every output format
carries exactly the same configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

#: Files of a module, in the order they are written and listed.
MODULE_FILES = ("main", "variables", "outputs", "versions")


@dataclass(frozen=True)
class Expr:
    """A Terraform expression: written as-is in HCL and as ``"${...}"`` in Terraform JSON."""

    text: str


@dataclass(frozen=True)
class Bare:
    """Written bare in HCL and as a plain string in Terraform JSON.

    For what Terraform reads as a keyword or address rather than an expression: a variable's
    type constraint (``map(string)``), a ``provider`` meta-argument (``aws.us_east_2``),
    ``configuration_aliases`` entries, ``moved`` addresses.
    """

    text: str


#: A variable's type constraint, e.g. ``map(string)``.
TypeConstraint = Bare


@dataclass(frozen=True)
class Template:
    """A string template whose ``${...}`` interpolations are meant, e.g. ``"arn:aws:ssm:${var.x}"``."""

    text: str


@dataclass(frozen=True)
class Block:
    """A block: ``kind "label" ... { body }``. Nested blocks sit in ``body`` as lists of Blocks."""

    kind: str
    labels: tuple[str, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)
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


Value = Union[str, int, bool, None, Expr, Bare, Template, list, dict, Block]


@dataclass(frozen=True)
class Document:
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
