"""A module's resource inventory: each resource's address, identity and attribute digests.

The inventory is computed from the Terraform document, never by parsing HCL. Each resource is
known by its address and by its *identity*: its type plus the attributes that name the real
object in AWS (see :data:`IDENTITY_ATTRIBUTES`). A resource whose address went away while a
resource of the same identity appeared under a new address has moved: a ``moved`` block tells
Terraform to keep the object instead of destroying and recreating it
(https://developer.hashicorp.com/terraform/language/modules/develop/refactoring).
Pure: no disk, no environment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..grants.build import Grants
from ..render.expression import expression_text, template_text
from ..tfmodule.document import Bare, Block, Document, Expr, GetAttr, Ref, Template, is_nested_blocks, rewrite

#: Attributes that name the real AWS object a resource manages. All of them force replacement
#: in hashicorp/aws when they change, so the same identity under a new address is a move.
IDENTITY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_role": ("name",),
    "aws_iam_instance_profile": ("name",),
    "aws_iam_policy": ("name",),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    "aws_vpc_endpoint": ("service_name",),
    "aws_ssm_service_setting": ("setting_id",),
}

#: Attributes besides the identity that AWS cannot change on an existing object, so hashicorp/aws
#: replaces the resource (destroy, then create) when they change:
#: - IAM's UpdateRole changes only a role's description and maximum session duration, never
#:   its path (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html); an
#:   instance profile has no update call at all
#:   (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html);
#: - a managed policy's description "is immutable" and it has no update call but new versions
#:   of its document (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html);
#: - ModifyVpcEndpoint cannot change an endpoint's VPC or type
#:   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyVpcEndpoint.html).
REPLACING_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_role": ("path",),
    "aws_iam_instance_profile": ("path",),
    "aws_iam_policy": ("path", "description"),
    "aws_vpc_endpoint": ("vpc_id", "vpc_endpoint_type"),
}

#: Meta-arguments that change how Terraform plans, not what the resource is.
_META_ARGUMENTS = ("lifecycle", "depends_on")


@dataclass(frozen=True)
class Resource:
    """One resource of a module's inventory: its type, identity and a digest of each attribute."""

    type: str
    identity: tuple[tuple[str, str], ...]
    attributes: tuple[tuple[str, str], ...]

    def to_data(self) -> dict[str, Any]:
        """The resource as record JSON."""
        return {"type": self.type, "identity": dict(self.identity), "attributes": dict(self.attributes)}

    @property
    def identity_text(self) -> str:
        """The identity for a reader: ``role SSMServiceRole, policy_arn arn:...``."""
        return ", ".join(f"{key} `{value}`" for key, value in self.identity)


# -- The inventory: computed from the document and the grants, never from HCL text ----------------


def inventory(document: Document) -> dict[str, Resource]:
    """Every managed resource of ``document`` by address, with its identity and attribute digests.

    References are resolved before digesting: to a local's value, a data source's body, or a
    resource's literal attribute (else the resource's identity), so renaming a resource does
    not count as a change of the resources that refer to it.
    """
    index = {block.address: block for block in document.blocks if block.kind in ("resource", "data")}
    locals_ = {key: value for block in document.of_kind("locals") for key, value in block.body.items()}
    # A module input (`[module] variables`) stands for its default: making a name an input
    # changes nothing a plan with the defaults creates.
    locals_.update(
        {f"var.{b.labels[0]}": b.body["default"] for b in document.of_kind("variable") if isinstance(b.body.get("default"), (str, int))}
    )
    resolver = _Resolver(index, locals_)
    resources = {}
    for block in document.of_kind("resource"):
        resources[block.address] = Resource(
            type=block.labels[0],
            identity=resolver.identity(block),
            attributes=tuple(
                (key, _digest(resolver.value(value)))
                for key, value in sorted(block.body.items())
                if key not in _META_ARGUMENTS
            ),
        )
    return dict(sorted(resources.items()))


def grant_pairs(grants: Grants) -> dict[str, tuple[str, ...]]:
    """Per custom policy (by name): every ``action resource`` pair it allows, sorted."""
    return {
        policy.name: tuple(
            sorted({f"{action} {resource}" for statement in policy.statements for action in statement.actions for resource in statement.resources})
        )
        for policy in grants.custom_policies
    }


class _Resolver:
    def __init__(self, index: dict[str, Block], locals_: dict[str, Any]) -> None:
        self.index = index
        self.locals = locals_

    def identity(self, block: Block, seen: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...]:
        keys = IDENTITY_ATTRIBUTES.get(block.labels[0], ())
        return tuple((key, _text(self.value(block.body.get(key), seen | {block.address}))) for key in keys)

    def value(self, value: Any, seen: frozenset[str] = frozenset()) -> Any:
        if is_nested_blocks(value):
            return [self.body(child.body, seen) for child in value]
        if isinstance(value, Block):
            return self.body(value.body, seen)
        if isinstance(value, Expr):
            # Each reference is written as its resolved text, so a digest holds values, not addresses.
            resolved = rewrite(value, lambda node: self.resolved(node, seen))
            return template_text(resolved) if isinstance(resolved, Template) else expression_text(resolved)
        if isinstance(value, Bare):
            return value.text
        if isinstance(value, list):
            return [self.value(item, seen) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item, seen) for key, item in value.items()}
        return value

    def body(self, body: dict[str, Any], seen: frozenset[str]) -> dict[str, Any]:
        return {key: self.value(value, seen) for key, value in body.items() if key not in _META_ARGUMENTS}

    def resolved(self, node: Expr, seen: frozenset[str]) -> Bare | None:
        """A variable or local, or a resource's or data source's attribute, as its resolved text."""
        if isinstance(node, Ref) and node.address.split(".")[0] in ("var", "local"):
            return Bare(self.reference(node.address, seen))
        if isinstance(node, GetAttr) and isinstance(node.target, Ref) and _is_object(node.target.address):
            return Bare(self.reference(f"{node.target.address}.{node.name}", seen))
        return None

    def reference(self, ref: str, seen: frozenset[str]) -> str:
        parts = ref.split(".")
        if parts[0] == "var":
            return _text(self.locals[ref]) if ref in self.locals else ref
        if parts[0] == "local":
            if parts[1] not in self.locals or ref in seen:
                return ref
            return _text(self.value(self.locals[parts[1]], seen | {ref}))
        if parts[0] == "data":
            address = ".".join(parts[:3])
            if address not in self.index or address in seen:
                return ref
            return _text(self.body(self.index[address].body, seen | {address}))
        address, attribute = ".".join(parts[:2]), parts[2]
        target = self.index.get(address)
        if target is None or address in seen:
            return ref
        value = target.body.get(attribute)
        if value is not None and not is_nested_blocks(value):
            return _text(self.value(value, seen | {address}))
        identity = ",".join(f"{k}={v}" for k, v in self.identity(target, seen))
        return f"{parts[0]}[{identity}].{attribute}"


def _is_object(address: str) -> bool:
    """Whether ``address`` names a data source or a resource (``type.name``, the type holding a ``_``)."""
    parts = address.split(".")
    return (len(parts) == 3 and parts[0] == "data") or (len(parts) == 2 and "_" in parts[0])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _digest(value: Any) -> str:
    return hashlib.sha256(_text(value).encode()).hexdigest()[:16]


def detect_moves(old: dict[str, Resource], new: dict[str, Resource]) -> list[tuple[str, str]]:
    """(from, to) for each resource that left an address while one of its identity appeared at another.

    Only addresses gone from ``new`` can be a move's source: Terraform rejects a ``moved``
    block whose source is still declared. A resource type without identifying attributes, or
    an identity held by more than one resource, is never matched.
    """
    gone = [a for a in old if a not in new]
    arrived = [a for a in new if a not in old]

    def key(resource: Resource) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        return (resource.type, resource.identity) if resource.identity else None

    old_keys = [key(old[a]) for a in gone]
    new_keys = [key(new[a]) for a in arrived]
    moves = []
    for address in gone:
        wanted = key(old[address])
        if wanted is None or old_keys.count(wanted) != 1 or new_keys.count(wanted) != 1:
            continue
        moves.append((address, arrived[new_keys.index(wanted)]))
    return moves


def changed_attributes(old: Resource, new: Resource) -> tuple[str, ...]:
    """The attributes whose digest differs between ``old`` and ``new``, sorted."""
    before, after = dict(old.attributes), dict(new.attributes)
    return tuple(sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key)))


def forces_replacement(old: Resource, new: Resource) -> bool:
    """Whether Terraform replaces ``old`` to reach ``new``: its identity or an unchangeable attribute changed."""
    if old.identity != new.identity:
        return True
    fixed = set(REPLACING_ATTRIBUTES.get(new.type, ()))
    return any(attribute in fixed for attribute in changed_attributes(old, new))
