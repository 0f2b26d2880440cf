"""A module's interface — what its callers write against — and what a change to it means for them.

The interface is what a root module has to match: the inputs (type, whether required, the
validations each value must pass, and for ``vpc_endpoint_network`` the keys it must hold), the
outputs it may read, and the provider configurations it must pass (``configuration_aliases``).
It is read from the Terraform document, plus the one fact the document states only inside a
validation expression: the Regions that need a network entry. Pure: no disk, no environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..grants.build import Grants
from ..render.expression import expression_text
from ..tfmodule.build import NETWORK_VARIABLE
from ..tfmodule.document import Bare, Document, Expr, TypeConstraint
from .versions import Level, Reason


@dataclass(frozen=True)
class Input:
    """One module input: its type constraint, whether it has no default, its validations and required keys."""

    type: str
    required: bool
    validations: tuple[tuple[str, str], ...] = ()  # (condition, error message)
    keys: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The input as record JSON."""
        data: dict[str, Any] = {"type": self.type, "required": self.required}
        data["validations"] = [{"condition": c, "error_message": m} for c, m in self.validations]
        if self.keys:
            data["keys"] = list(self.keys)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Input:
        """The input from record JSON."""
        return cls(
            type=str(data["type"]),
            required=bool(data["required"]),
            validations=tuple((str(v["condition"]), str(v["error_message"])) for v in data["validations"]),
            keys=tuple(str(k) for k in data.get("keys", ())),
        )


@dataclass(frozen=True)
class Interface:
    """What a root module calling the module writes against."""

    inputs: dict[str, Input]
    outputs: tuple[str, ...]
    aliases: tuple[str, ...]  # provider configurations the caller passes: aws.us_east_2 ...

    def to_data(self) -> dict[str, Any]:
        """The interface as record JSON, sorted."""
        return {
            "inputs": {name: self.inputs[name].to_data() for name in sorted(self.inputs)},
            "outputs": list(self.outputs),
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Interface:
        """The interface from record JSON."""
        return cls(
            inputs={str(name): Input.from_data(entry) for name, entry in data["inputs"].items()},
            outputs=tuple(str(name) for name in data["outputs"]),
            aliases=tuple(str(alias) for alias in data["aliases"]),
        )


def module_interface(document: Document, grants: Grants) -> Interface:
    """The interface of the module ``document`` declares; ``grants`` says which Regions need a network entry."""
    network_keys = tuple(s.region for s in grants.regional if s.endpoints)
    inputs = {}
    for block in document.of_kind("variable"):
        name = block.labels[0]
        checks = block.body.get("validation", [])
        inputs[name] = Input(
            type=_text(block.body.get("type", "any")),
            required="default" not in block.body,
            validations=tuple((_text(c.body["condition"]), str(c.body["error_message"])) for c in checks),
            keys=network_keys if name == NETWORK_VARIABLE else (),
        )
    outputs = tuple(sorted(block.labels[0] for block in document.of_kind("output")))
    return Interface(inputs=dict(sorted(inputs.items())), outputs=outputs, aliases=tuple(sorted(_aliases(document))))


def _aliases(document: Document) -> list[str]:
    aliases = []
    for block in document.of_kind("terraform"):
        for requirements in block.body.get("required_providers", []):
            for provider in requirements.body.values():
                aliases += [_text(alias) for alias in provider.get("configuration_aliases", [])]
    return aliases


def _text(value: Any) -> str:
    return expression_text(value) if isinstance(value, (Bare, Expr, TypeConstraint)) else str(value)


def region_of(alias: str) -> str:
    """The Region of a provider alias: ``aws.ap_southeast_2`` -> ``ap-southeast-2`` (Region codes hold no ``_``)."""
    return alias.split(".", 1)[-1].replace("_", "-")


# -- What a change of interface means for callers ------------------------------------------------


def interface_reasons(old: Interface, new: Interface) -> list[Reason]:
    """One reason per interface change from ``old`` to ``new``, with the step a caller takes."""
    reasons = []
    for alias in new.aliases:
        if alias not in old.aliases:
            region = region_of(alias)
            reasons.append(Reason(
                Level.MAJOR, f"new provider alias {alias} (callers must pass it)",
                f'Add a provider configuration `provider "aws" {{ alias = "{alias.split(".", 1)[-1]}", region = "{region}" }}` '
                f"to your root module and pass it in the module block: `providers = {{ ..., {alias} = {alias} }}`. "
                'Without it Terraform stops with "Missing required provider configuration".',
            ))
    for alias in old.aliases:
        if alias not in new.aliases:
            reasons.append(Reason(
                Level.MAJOR, f"provider alias {alias} removed (the module no longer uses {region_of(alias)})",
                f"Keep passing `{alias}` until you have applied this release: Terraform destroys the module's "
                f"resources in {region_of(alias)} with it. Then remove `{alias}` from the module's `providers` "
                '(Terraform warns "Reference to undefined provider" while you pass it).',
            ))
    for name, after in new.inputs.items():
        before = old.inputs.get(name)
        reasons += _input_reasons(name, before, after) if before else [_new_input(name, after)]
    for name in old.inputs:
        if name not in new.inputs:
            reasons.append(Reason(
                Level.MAJOR, f"input {name} removed (callers that set it fail with \"Unsupported argument\")",
                f"Remove `{name}` from the module block.",
            ))
    for name in new.outputs:
        if name not in old.outputs:
            reasons.append(Reason(Level.MINOR, f"new output {name}"))
    for name in old.outputs:
        if name not in new.outputs:
            reasons.append(Reason(
                Level.MAJOR, f"output {name} removed (callers reading it fail)",
                f"Stop reading `module.<name>.{name}` (Terraform: \"Unsupported attribute\").",
            ))
    return reasons


def _new_input(name: str, after: Input) -> Reason:
    if after.required:
        return Reason(
            Level.MAJOR, f"new required input {name} (callers must set it)",
            f"Set `{name}` (type `{after.type}`) in the module block." + (
                f" It needs a key for each of: {', '.join(f'`{k}`' for k in after.keys)}." if after.keys else ""
            ),
        )
    return Reason(Level.MINOR, f"new optional input {name}")


def _input_reasons(name: str, before: Input, after: Input) -> list[Reason]:
    reasons = []
    if before.type != after.type:
        reasons.append(Reason(
            Level.MAJOR, f"input {name} changed type from {before.type} to {after.type}",
            f"Pass `{name}` as `{after.type}`.",
        ))
    if after.required and not before.required:
        reasons.append(Reason(Level.MAJOR, f"input {name} is now required (callers must set it)", f"Set `{name}` in the module block."))
    elif before.required and not after.required:
        reasons.append(Reason(Level.MINOR, f"input {name} is now optional"))
    for key in after.keys:
        if key not in before.keys:
            reasons.append(Reason(
                Level.MAJOR, f"input {name} needs a new key {key} (callers must add it)",
                f'Add the key `"{key}"` to `{name}`, shaped like its other entries (type `{after.type}`).',
            ))
    # The checks on the input's keys (one per required key, one on the key list) change
    # whenever the keys change; the key reasons above say what that means for a caller.
    def checks(input_: Input) -> list[tuple[str, str]]:
        keys_changed = before.keys != after.keys
        return [(c, m) for c, m in input_.validations if not (keys_changed and f"keys(var.{name})" in c)]

    # A module that rejects keys it does not know (a check over the key list) breaks a caller
    # still passing a key it no longer has.
    rejects_unknown = any(f"in keys(var.{name})" in condition for condition, _ in after.validations)
    for key in before.keys:
        if key not in after.keys and rejects_unknown:
            reasons.append(Reason(
                Level.MAJOR, f"input {name} no longer accepts the key {key} (callers must remove it)",
                f'Remove the key `"{key}"` from `{name}`: the module rejects keys it has no use for.',
            ))
    conditions = {condition for condition, _ in checks(before)}
    added = [(c, m) for c, m in checks(after) if c not in conditions]
    if added:
        for _, message in added:
            reasons.append(Reason(
                Level.MAJOR, f"input {name} has a new or tightened validation: {message}",
                f"Make sure the `{name}` you pass satisfies: {message}",
            ))
    elif len(checks(after)) < len(checks(before)):
        reasons.append(Reason(Level.MINOR, f"input {name} has fewer validations (it accepts more)"))
    return reasons

