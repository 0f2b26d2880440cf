"""The instance profile for Systems Manager as a construct for your own CDK for Terraform app.

::

    from ssm_profile.cdk import SsmInstanceProfile

    profile = SsmInstanceProfile(stack, "ssm", spec="ssm-profile.toml")
    TerraformOutput(stack, "instance_profile", value=profile.instance_profile_name)

The construct declares, inside your stack, the resources the generated module would create —
from the same :class:`~ssm_profile.grants.build.Grants` and the same
:class:`~ssm_profile.tfmodule.document.Document`, declared raw through CDK Terrain (``cdktn``) or
``cdktf`` with no typed provider package. Names are prefixed with the construct's path so
several instances can share a stack: ``aws_iam_role.this`` becomes ``aws_iam_role.ssm_this``.
The module's input variables become locals set from ``variables=`` (else their defaults); its
outputs become locals, exposed as tokens (:attr:`SsmInstanceProfile.role_arn` ...).

The module's ``terraform`` block is not copied: your stack configures the ``hashicorp/aws``
provider (version 5.0 or later), as it does for the rest of your app, and hands the construct
one provider per Region where the spec creates resources (VPC endpoints, Default Host
Management)::

    profile = SsmInstanceProfile(stack, "ssm", spec="two-regions.toml",
                                 providers={"us-east-1": aws_use1, "eu-west-1": aws_euw1})

Each regional resource is bound to the provider given for its Region, whatever its alias; the
global IAM resources to the stack's default ``aws`` provider, or to ``providers["global"]``.
The module's inputs (``account_id``, ``vpc_endpoint_network``) are ``variables=``, literals or
CDK tokens (a data source's attribute, another construct's resource IDs).

Importing this module starts CDK's Node process; it needs ``pip install 'ssm-profile[cdk]'``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from .errors import SpecError
from .grants.build import Grants, build_grants
from .render.cdk_engine import CDK_LIBRARIES, NULL_EXPRESSION, cdk_library, cdk_value, declare_block, unused_construct_id
from .spec.load import Spec, ValidatedSpec, as_validated
from .tfmodule.build import ACCOUNT_ID_VARIABLE, NETWORK_VARIABLE, module_document, provider_alias
from .tfmodule.document import Bare, Block, Document, Expr, Ref, rewrite

cdk_library()  # imports cdktn (else cdktf) with jsii's Node warnings off, before constructs starts Node

from constructs import Construct  # noqa: E402  (after the quiet start above)

__all__ = ["SsmInstanceProfile"]

#: Top-level blocks whose last label is a name in the configuration's namespace, and how a
#: reference to one is spelled.
_NAMED_KINDS = {"resource": "{0}.{1}", "data": "data.{0}.{1}", "module": "module.{0}", "check": None}


class SsmInstanceProfile(Construct):
    """The role, instance profile and policies a spec describes, declared in a CDK stack.

    ``spec`` is a :class:`~ssm_profile.spec.load.ValidatedSpec`, a :class:`~ssm_profile.spec.load.Spec`,
    plain spec data (a mapping) or the path of a spec file. ``variables`` sets the module's
    input variables (``{"tags": {...}}``), each a literal or a CDK token. ``providers`` maps
    each Region where the spec creates resources to an ``aws`` provider of the stack, and
    optionally ``"global"`` to the provider of the IAM resources (else the stack's default
    ``aws`` provider). Bad input raises
    :class:`~ssm_profile.errors.SpecError` here, before synth.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: ValidatedSpec | Spec | Mapping[str, Any] | str | Path,
        variables: Mapping[str, Any] | None = None,
        providers: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        cdk = _library_of(scope)
        self.grants: Grants = build_grants(as_validated(spec))
        self.document: Document = module_document(self.grants)
        self.prefix: str = _prefix(self, cdk)
        #: The provider reference each regional resource's ``provider`` becomes (``aws.us_east_1``
        #: -> ``aws.use1``), and ``""`` for the global resources' (the stack's default provider).
        self.provider_references: dict[str, str] = _provider_references(self.grants, providers or {}, self, cdk)
        given = dict(variables or {})
        declared = {block.labels[0] for block in self.document.of_kind("variable")}
        unknown = sorted(set(given) - declared)
        if unknown:
            raise SpecError(f"variables.{unknown[0]}", f"not a variable of the module; allowed: {', '.join(sorted(declared))}")
        missing = [b.labels[0] for b in self.document.of_kind("variable") if "default" not in b.body and b.labels[0] not in given]
        if missing:
            raise SpecError(f"variables.{missing[0]}", "required: the module's variable has no default")
        _check_literal_inputs(self.grants, given, cdk)
        renames = _renames(self.document, self.prefix)
        rename = _renamer(renames)
        #: The declared resources, data sources and locals, by their address in the generated module.
        self.elements: dict[str, Any] = {}
        #: The module's outputs as locals of this construct, by output name.
        self.outputs: dict[str, Any] = {}
        for block in self.document.blocks:
            if block.kind == "terraform":
                continue
            if block.kind == "variable":
                name = block.labels[0]
                if name in given:
                    value = NULL_EXPRESSION if given[name] is None else given[name]
                else:
                    value = cdk_value(block.body["default"])
                self._local(cdk, f"variable.{name}", renames[f"var.{name}"], value)
            elif block.kind == "output":
                name = block.labels[0]
                value = cdk_value(rename(block.body.get("value")))
                self.outputs[name] = self._local(cdk, f"output.{name}", f"local.{self.prefix}_output_{name}", value)
            else:
                declared_block = _bound_block(_renamed_block(block, self.prefix, rename), self.provider_references)
                elements = declare_block(self, declared_block, cdk, unused_construct_id(block.address, self))
                if block.kind == "locals":
                    originals = {f"local.{self.prefix}_{key}": f"local.{key}" for key in block.body}
                else:
                    originals = {declared_block.address: block.address}
                self.elements.update({originals.get(address, address): e for address, e in elements.items()})

    def _local(self, cdk: ModuleType, construct_id: str, reference: str, value: Any) -> Any:
        local = cdk.TerraformLocal(self, construct_id, value)
        local.override_logical_id(reference.removeprefix("local."))
        return local

    def _string(self, output: str) -> str | None:
        local = self.outputs.get(output)
        return None if local is None else local.as_string

    def _list(self, output: str) -> list[str]:
        local = self.outputs.get(output)
        return [] if local is None else local.as_list

    @property
    def role_name(self) -> str:
        """Name of the IAM role (created here, or the existing role the spec names), as a token."""
        return self._string("role_name")  # type: ignore[return-value]

    @property
    def role_arn(self) -> str | None:
        """ARN of the IAM role as a token; ``None`` when the spec attaches to an existing role."""
        return self._string("role_arn")

    @property
    def instance_profile_name(self) -> str | None:
        """Name of the instance profile as a token; ``None`` when the spec creates none."""
        return self._string("instance_profile_name")

    @property
    def instance_profile_arn(self) -> str | None:
        """ARN of the instance profile as a token; ``None`` when the spec creates none."""
        return self._string("instance_profile_arn")

    @property
    def policy_arns(self) -> list[str]:
        """ARNs of every managed policy attached to the role, AWS managed and custom (a list token)."""
        return self._list("policy_arns")

    @property
    def s3_policy_arns(self) -> list[str]:
        """ARNs of the custom S3 policies, in order (a list token; empty when none is granted)."""
        return self._list("s3_policy_arns")


def _provider_references(grants: Grants, providers: Mapping[str, Any], scope: Construct, cdk: ModuleType) -> dict[str, str]:
    """Where each of the module's provider configurations points in the stack, from ``providers``.

    Keys are the module's references (``aws.us_east_1`` for a Region, ``""`` for the global
    resources, which name none); values are the given provider's own reference (``aws.use1``,
    ``aws`` for an unaliased one; ``""`` to leave the global resources on the default provider).
    """
    needed = [setup.region for setup in grants.regional if not setup.is_empty]
    allowed = [*grants.regions, "global"]
    for key in providers:
        if key not in allowed:
            raise SpecError(f"providers.{key}", f"not a Region of the spec; allowed: {', '.join(allowed)}")
    missing = [region for region in needed if region not in providers]
    if missing:
        wanted = ", ".join(f'"{region}": <aws provider>' for region in missing)
        raise SpecError(
            "providers",
            f"missing the stack's aws provider for {', '.join(missing)}, where the spec creates regional resources; "
            f"pass providers={{{wanted}}}",
        )
    references = {"": _provider_reference(providers["global"], "global", scope, cdk) if "global" in providers else ""}
    seen: dict[str, str] = {}
    for region in needed:
        reference = _provider_reference(providers[region], region, scope, cdk)
        if reference in seen:
            raise SpecError(
                f"providers.{region}",
                f"is the provider configuration {reference} already given for {seen[reference]}; each Region needs its own",
            )
        seen[reference] = region
        references[f"aws.{provider_alias(region)}"] = reference
    return references


def _provider_reference(provider: Any, key: str, scope: Construct, cdk: ModuleType) -> str:
    """``aws`` or ``aws.<alias>``: how the stack's resources name ``provider``.

    Read from the provider's own Terraform JSON rather than its ``fqn``: the core package's
    raw ``TerraformProvider`` has no alias property (only the typed provider classes do), so a
    stack that declares its providers raw sets the alias through ``add_override("alias", ...)``.
    """
    field = f"providers.{key}"
    if not cdk.TerraformProvider.is_terraform_provider(provider):
        raise SpecError(field, f"must be an aws TerraformProvider of the stack, not {type(provider).__name__}")
    if provider.terraform_resource_type != "aws":
        raise SpecError(field, f"must be an aws provider (hashicorp/aws), not {provider.terraform_resource_type}")
    if cdk.TerraformStack.of(provider).node.path != cdk.TerraformStack.of(scope).node.path:
        raise SpecError(field, f"is a provider of stack {cdk.TerraformStack.of(provider).node.path}, not of this construct's stack")
    config = provider.to_terraform()["provider"]["aws"][0]
    alias, region = config.get("alias"), config.get("region")
    if alias is not None and (not isinstance(alias, str) or cdk.Token.is_unresolved(alias)):
        raise SpecError(field, "the provider's alias must be a literal name, not a token")
    if key != "global" and isinstance(region, str) and not cdk.Token.is_unresolved(region) and region != key:
        raise SpecError(field, f"the provider is configured for Region {region}, not {key}")
    return f"aws.{alias}" if alias else "aws"


def _bound_block(block: Block, references: Mapping[str, str]) -> Block:
    """``block`` with its ``provider`` pointing at the stack's provider for its Region."""
    if block.kind not in ("resource", "data"):
        return block
    given = block.body.get("provider")
    reference = references[given.text] if isinstance(given, Bare) else references[""]
    if not reference:
        return block
    return msgspec.structs.replace(block, body={**block.body, "provider": Bare(reference)})


def _check_literal_inputs(grants: Grants, given: Mapping[str, Any], cdk: ModuleType) -> None:
    """The module's validations of its inputs, for values known before synth (tokens pass).

    As variables become locals in a stack, the module's ``validation`` blocks do not travel:
    these are the same rules (see :func:`ssm_profile.tfmodule.build._variables`).
    """
    account_id = given.get(ACCOUNT_ID_VARIABLE)
    if isinstance(account_id, str) and not cdk.Token.is_unresolved(account_id) and not re.fullmatch(r"[0-9]{12}", account_id):
        raise SpecError(f"variables.{ACCOUNT_ID_VARIABLE}", f"must be a 12-digit AWS account ID, not {account_id!r}")
    network = given.get(NETWORK_VARIABLE)
    if isinstance(network, Mapping) and not any(cdk.Token.is_unresolved(key) for key in network):
        needed = [setup.region for setup in grants.regional if setup.endpoints]
        missing = [region for region in needed if region not in network]
        if missing:
            raise SpecError(
                f"variables.{NETWORK_VARIABLE}",
                f"needs an entry for each Region: {', '.join(needed)}; missing: {', '.join(missing)}",
            )
        for setup in grants.regional:
            entry = network.get(setup.region)
            gateway = any(endpoint.kind == "Gateway" for endpoint in setup.endpoints)
            if gateway and isinstance(entry, Mapping) and not entry.get("route_table_ids"):
                raise SpecError(
                    f"variables.{NETWORK_VARIABLE}.{setup.region}.route_table_ids",
                    "the S3 gateway endpoint needs at least one route table",
                )


def _library_of(scope: Any) -> ModuleType:
    """The CDK library the scope's own classes come from, so a construct never mixes cdktn and cdktf."""
    for cls in type(scope).__mro__:
        root = cls.__module__.split(".")[0]
        if root in CDK_LIBRARIES and sys.modules.get(root) is not None:
            return sys.modules[root]
    if isinstance(scope, Construct) and scope.node.scope is not None:
        return _library_of(scope.node.scope)
    return cdk_library()


def _prefix(construct: Construct, cdk: ModuleType) -> str:
    """A name prefix from the construct's path inside its stack, e.g. ``network_ssm``."""
    stack_path = cdk.TerraformStack.of(construct).node.path
    relative = construct.node.path[len(stack_path) :].strip("/")
    prefix = "_".join(re.sub(r"[^A-Za-z0-9_]", "_", part) for part in relative.split("/"))
    return prefix if re.match(r"^[A-Za-z_]", prefix) else f"_{prefix}"


def _renames(document: Document, prefix: str) -> dict[str, str]:
    """Each name the module's expressions can refer to, and its prefixed name in the stack."""
    renames: dict[str, str] = {}
    for block in document.blocks:
        spelling = _NAMED_KINDS.get(block.kind)
        if spelling:
            renames[spelling.format(*block.labels)] = spelling.format(*block.labels[:-1], f"{prefix}_{block.labels[-1]}")
        elif block.kind == "locals":
            renames.update({f"local.{key}": f"local.{prefix}_{key}" for key in block.body})
        elif block.kind == "variable":
            renames[f"var.{block.labels[0]}"] = f"local.{prefix}_var_{block.labels[0]}"
    return renames


def _renamer(renames: dict[str, str]) -> Any:
    def renamed(node: Expr) -> Ref | None:
        return Ref(renames[node.address]) if isinstance(node, Ref) and node.address in renames else None

    return lambda value: rewrite(value, renamed)


def _renamed_block(block: Block, prefix: str, rename: Any) -> Block:
    body = rename(block.body)
    labels = block.labels
    if block.kind in _NAMED_KINDS and labels:
        labels = (*labels[:-1], f"{prefix}_{labels[-1]}")
    elif block.kind == "locals":
        body = {f"{prefix}_{key}": value for key, value in body.items()}
    return Block(block.kind, labels, body, block.comment, block.file)
