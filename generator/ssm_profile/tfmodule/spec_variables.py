"""Spec fields as module input variables: ``[module] variables = ["role.name", ...]``.

Each listed field becomes a typed, described Terraform variable whose default is the spec's
value and whose ``validation`` blocks apply the spec's own rules (IAM's name lengths and
character sets, its path pattern, a managed-policy ARN of the spec's partition). The module
then names its resources from the variable instead of the baked string, so one spec gives one
module reusable across environments. Pure: rewrites the Terraform document only.
"""

from __future__ import annotations

import re

import msgspec

from ..grants.build import Grants
from .document import Bare, Block, Conditional, Document, Expr, Op, Template, TypeConstraint, all_of, call, nested, var

# IAM's documented limits (IAM API reference: CreateRole, CreatePolicy, CreateInstanceProfile),
# the same rules spec.py applies to the spec's values. RE2 syntax.
_NAME_CHARS = "^[0-9A-Za-z_+=,.@-]+$"
_PATH = "^/([!-~]*/)?$"
_DESCRIPTION = "^[\\t\\n\\r -~\u00a1-\u00ff]*$"


class ModuleInput(msgspec.Struct, frozen=True):  # not a dataclass: no methods compiled at import
    """One spec field the module takes as an input variable."""

    field: str
    variable: str
    type: str
    description: str
    default: object
    checks: tuple[tuple[Expr, str], ...]  # (condition, error message)

    @property
    def reference(self) -> Expr:
        """``var.<variable>``."""
        return var(self.variable)


def _matches(pattern: str, value: Expr) -> Expr:
    return call("can", call("regex", pattern, value))


def _name_checks(variable: str, limit: int, what: str) -> tuple[tuple[Expr, str], ...]:
    value = var(variable)
    return (
        (
            all_of(Op(">=", call("length", value), 1), Op("<=", call("length", value), limit), _matches(_NAME_CHARS, value)),
            f"{variable} must be {what} of 1 to {limit} characters: letters, digits and + = , . @ _ -.",
        ),
    )


def _split_suffix_room(grants: Grants, key: str) -> int:
    """Characters left for a policy name once the longest split suffix (``-2`` ...) is added."""
    count = sum(1 for p in grants.custom_policies if p.key == key or p.key.startswith(key + "_"))
    return 128 - (len(f"-{count}") if count > 1 else 0)


def module_inputs(grants: Grants) -> list[ModuleInput]:
    """The inputs the spec's ``module.variables`` asks for, in the spec's order."""
    inputs = []
    for field in grants.module_variables:
        if field.startswith("role."):
            inputs.append(_role_input(grants, field))
        elif field == "instance_profile.name":
            name = grants.instance_profile.name if grants.instance_profile else ""
            checks = _name_checks("instance_profile_name", 128, "an instance profile name")
            inputs.append(_input(field, "string", "Name of the instance profile EC2 instances are launched with.", name, checks))
        elif field == "s3.policy_name":
            inputs.append(_policy_input(grants, "s3", field, "S3"))
        elif field == "session_manager.policy_name":
            inputs.append(_policy_input(grants, "session_manager", field, "Session Manager"))
        else:  # default_host_management.role_name, hybrid.role_name
            inputs.append(_service_role_input(grants, field.split(".")[0]))
    return inputs


def _input(field: str, type: str, description: str, default: object, checks: tuple[tuple[Expr, str], ...]) -> ModuleInput:
    return ModuleInput(field, field.replace(".", "_"), type, description, default, checks)


def _role_input(grants: Grants, field: str) -> ModuleInput:
    role = grants.role
    variable = field.replace(".", "_")
    value = var(variable)
    if field == "role.name":
        what = "Name of the IAM role the instances use" + ("." if role.create else " (an existing role).")
        return _input(field, "string", what, role.name, _name_checks(variable, 64, "a role name"))
    if field == "role.path":
        check = (
            all_of(Op("<=", call("length", value), 512), _matches(_PATH, value)),
            f"{variable} must start and end with / and hold printable ASCII only (at most 512 characters), e.g. /ssm/.",
        )
        return _input(field, "string", "IAM path of the role, the instance profile and the custom policies.", role.path, (check,))
    if field == "role.description":
        check = (
            all_of(Op("<=", call("length", value), 1000), _matches(_DESCRIPTION, value)),
            f"{variable} must be at most 1000 printable ASCII or Latin-1 characters.",
        )
        return _input(field, "string", "Description of the IAM role.", role.description, (check,))
    if field == "role.permissions_boundary":
        partition = grants.partition.id
        check = (
            Conditional(Op("==", value, None), True, _matches(f"^arn:{re.escape(partition)}:iam::(aws|[0-9]{{12}}):policy/[!-~]+$", value)),
            f"{variable} must be a managed policy ARN of partition {partition}: arn:{partition}:iam::<account>:policy/<name>.",
        )
        what = "ARN of the managed policy that caps the role's permissions (null: none)."
        return _input(field, "string", what, role.permissions_boundary or None, (check,))
    # role.max_session_duration: IAM's CreateRole takes 3600 to 43200 seconds.
    check = (
        all_of(Op(">=", value, 3600), Op("<=", value, 43200), Op("==", call("floor", value), value)),
        f"{variable} must be a whole number of seconds from 3600 to 43200.",
    )
    return _input(field, "number", "Maximum session duration of the role, in seconds.", role.max_session_duration, (check,))


def _policy_input(grants: Grants, key: str, field: str, what: str) -> ModuleInput:
    variable = field.replace(".", "_")
    policies = [p for p in grants.custom_policies if p.key == key or p.key.startswith(key + "_")]
    split = f"; split parts are named <name>-2, <name>-3 ... ({len(policies)} parts)" if len(policies) > 1 else ""
    return ModuleInput(
        field, variable, "string", f"Name of the custom {what} policy{split}.", policies[0].name,
        _name_checks(variable, _split_suffix_room(grants, key), "a policy name"),
    )


def _service_role_input(grants: Grants, key: str) -> ModuleInput:
    role = next(r for r in grants.service_roles if r.key == key)
    variable = f"{key}_role_name"
    return ModuleInput(
        f"{key}.role_name", variable, "string", f"Name of the role {role.trusted_service} assumes: {role.why}.", role.name,
        _name_checks(variable, 64, "a role name"),
    )


def input_variables(grants: Grants) -> list[Block]:
    """The ``variable`` blocks of the module inputs, for variables.tf."""
    return [
        Block(
            "variable",
            (item.variable,),
            {
                "description": f"{item.description} Spec field {item.field}.",
                "type": TypeConstraint(Bare(item.type)),
                "default": item.default,
                "validation": nested(
                    *(Block("validation", body={"condition": condition, "error_message": message}) for condition, message in item.checks)
                ),
            },
            file="variables",
        )
        for item in module_inputs(grants)
    ]


def follow_inputs(document: Document, grants: Grants) -> Document:
    """``document`` with each input's baked value replaced by a reference to its variable."""
    inputs = {item.field: item for item in module_inputs(grants)}
    if not inputs:
        return document
    by_address: dict[str, dict[str, object]] = {}

    def use(address: str, attribute: str, value: object) -> None:
        by_address.setdefault(address, {})[attribute] = value

    role = grants.role
    if "role.name" in inputs:
        name = inputs["role.name"].reference
        if role.create:
            use("aws_iam_role.this", "name", name)
        else:  # an existing role: everything that names it takes the variable
            for block in document.blocks:
                if block.kind == "resource" and block.body.get("role") == role.name:
                    use(block.address, "role", name)
            use("output.role_name", "value", name)
        profile = grants.instance_profile
        if profile is not None and profile.name == role.name and "instance_profile.name" not in inputs:
            use("aws_iam_instance_profile.this", "name", name)
    simple = {
        "role.description": ("aws_iam_role.this", "description"),
        "role.permissions_boundary": ("aws_iam_role.this", "permissions_boundary"),
        "role.max_session_duration": ("aws_iam_role.this", "max_session_duration"),
        "instance_profile.name": ("aws_iam_instance_profile.this", "name"),
        "default_host_management.role_name": ("aws_iam_role.default_host_management", "name"),
        "hybrid.role_name": ("aws_iam_role.hybrid", "name"),
    }
    for field, (address, attribute) in simple.items():
        if field in inputs:
            use(address, attribute, inputs[field].reference)
    if "role.path" in inputs:
        for address in ["aws_iam_role.this", "aws_iam_instance_profile.this", *(f"aws_iam_policy.{p.key}" for p in grants.custom_policies)]:
            use(address, "path", inputs["role.path"].reference)
    for field, key in (("s3.policy_name", "s3"), ("session_manager.policy_name", "session_manager")):
        if field in inputs:
            variable = inputs[field].variable
            for policy in grants.custom_policies:
                if policy.key == key:
                    use(f"aws_iam_policy.{key}", "name", inputs[field].reference)
                elif policy.key.startswith(key + "_") and policy.key[len(key) + 1 :].isascii() and policy.key[len(key) + 1 :].isdigit():
                    use(f"aws_iam_policy.{policy.key}", "name", Template((var(variable), f"-{policy.key[len(key) + 1 :]}")))
    return Document(tuple(_with(block, by_address.get(block.address)) for block in document.blocks))


def _with(block: Block, values: dict[str, object] | None) -> Block:
    """``block`` with ``values`` set; a new attribute goes before ``tags`` (where the generator puts it)."""
    if not values:
        return block
    body: dict[str, object] = {}
    for key, value in block.body.items():
        if key == "tags":
            body.update({k: v for k, v in values.items() if k not in block.body})
        body[key] = values.get(key, value)
    body.update({k: v for k, v in values.items() if k not in body})
    return msgspec.structs.replace(block, body=body)
