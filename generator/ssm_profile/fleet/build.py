"""Fleets: one spec, one shared module, one Terraform root per AWS account.

``ssm-profile fleet FLEET -o LIVE`` generates what the engines teams already run consume
(Atlantis, a CI job matrix, Terragrunt, HCP Terraform workspaces); it never plans or applies
a fleet itself. This module is pure: it turns a validated :class:`Fleet` and the facts of the
shared module (:class:`SharedModule`) into the account roots; :mod:`.engines` adds the engines'
files. Reading the fleet file and writing the files happen at the edges (:mod:`.files`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ..aws.partitions import suggest
from ..errors import SpecError
from ..tfmodule.build import ACCOUNT_ID_VARIABLE, MIN_AWS_PROVIDER, MIN_TERRAFORM
from ..tfmodule.document import Bare, Block, nested
from ..tfmodule.own_variables import NETWORK_VARIABLE
from .schema import (
    DEFAULT_STATE_KEY,
    DEFAULT_WORKSPACE_NAME,
    S3_BACKEND_DOC,
    Backend,
    Fleet,
    FleetAccount,
    check_state_key,
    check_workspace_name,
    expand,
    fleet_from_data,
)

__all__ = ["Fleet", "FleetAccount", "SharedModule", "check_accounts", "fleet_from_data", "root_files", "state_locations", "workspace_names"]

# A root's folder name: portable on every file system and usable as an Atlantis project
# name and an HCP Terraform workspace name suffix (letters, digits, `-`, `_`).
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# arn:PARTITION:iam::ACCOUNT:role/PATH/NAME (IAM identifiers reference: role ARNs).
_ROLE_ARN = re.compile(r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>[0-9]{12}):role/(?:[\x21-\x7E]*/)?[A-Za-z0-9+=,.@_-]{1,64}")
# {fleet} in a name template: the fleet file's name without its suffix, so it must itself be a name.
_FLEET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: S3 native locking (use_lockfile) needs Terraform 1.10 (S3 backend docs, State Locking).
MIN_TERRAFORM_LOCKFILE = ">= 1.10.0"

ASSUME_ROLE_DOC = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs#assume-role"


@dataclass(frozen=True)
class SharedModule:
    """What a fleet needs to know of the module its roots call, and where things sit.

    Paths are POSIX and relative: ``module_from_live`` from LIVE to the module folder,
    ``live_from_repo`` from the repository root to LIVE, ``spec_from_live`` and
    ``fleet_from_live`` from LIVE to the spec and the fleet file. ``fleet_name`` is the fleet
    file's name without its suffix: ``{fleet}`` in name templates.
    """

    partition: str
    regions: tuple[str, ...]
    provider_aliases: tuple[tuple[str, str], ...]
    variables: tuple[str, ...]
    required_inputs: tuple[str, ...]
    module_from_live: str
    live_from_repo: str
    spec_from_live: str
    fleet_from_live: str
    fleet_name: str = "fleet"


# -- checks that need the shared module ----------------------------------------------------


def check_accounts(fleet: Fleet, partition: str, variables: tuple[str, ...], required: tuple[str, ...], regions: tuple[str, ...] = ()) -> None:
    """Check what the structs cannot express: unique names and IDs, each role ARN in its own
    account and the spec's partition, and inputs the shared module has (``vpc_endpoint_network``
    keyed by the spec's Regions)."""
    names: dict[str, int] = {}
    ids: dict[str, int] = {}
    settable = [v for v in variables if v != ACCOUNT_ID_VARIABLE]
    for index, account in enumerate(fleet.accounts):
        at = f"accounts[{index}]"
        if not _ACCOUNT_NAME.fullmatch(account.name):
            raise SpecError(f"{at}.name", f"{account.name!r} must be 1 to 64 letters, digits, '-' or '_', starting with a letter or digit (it names the root's folder)")
        if account.name.lower() in names:
            raise SpecError(f"{at}.name", f"{account.name!r} is also the name of accounts[{names[account.name.lower()]}] (names must be unique, ignoring case)")
        names[account.name.lower()] = index
        if not _ACCOUNT_ID.fullmatch(account.id):
            raise SpecError(f"{at}.id", f"{account.id!r} is not an AWS account ID (12 digits)")
        if account.id in ids:
            raise SpecError(f"{at}.id", f"{account.id} is also the ID of accounts[{ids[account.id]}] (IDs must be unique)")
        ids[account.id] = index
        _check_role(account, at, partition)
        for key in account.inputs:
            if key == ACCOUNT_ID_VARIABLE:
                raise SpecError(f'{at}.inputs["{key}"]', f"is set from {at}.id; remove it")
            if key not in settable:
                raise SpecError(f'{at}.inputs["{key}"]', f"is not an input of the shared module{suggest(key, settable)}; allowed: {', '.join(settable) or 'none'}")
            _check_value(account.inputs[key], f'{at}.inputs["{key}"]')
        for key in required:
            if key != ACCOUNT_ID_VARIABLE and key not in account.inputs:
                raise SpecError(f'{at}.inputs["{key}"]', "is required: the shared module has no default for it")
        network = account.inputs.get(NETWORK_VARIABLE)
        if regions and isinstance(network, dict):
            for region in network:
                if region not in regions:
                    raise SpecError(f'{at}.inputs["{NETWORK_VARIABLE}"]["{region}"]', f"is not a Region of the spec{suggest(region, regions)}; allowed: {', '.join(regions)}")


def _check_role(account: FleetAccount, at: str, partition: str) -> None:
    arn = _ROLE_ARN.fullmatch(account.role_arn)
    if arn is None:
        raise SpecError(f"{at}.role_arn", f"{account.role_arn!r} is not an IAM role ARN (arn:{partition}:iam::{account.id}:role/NAME)")
    if arn["partition"] != partition:
        raise SpecError(f"{at}.role_arn", f"is in partition {arn['partition']}, but the spec's Regions are in {partition}")
    if arn["account"] != account.id:
        raise SpecError(f"{at}.role_arn", f"is a role of account {arn['account']}, not of this account ({account.id})")


def _check_value(value: Any, at: str) -> None:
    """Input values are written into HCL: strings, whole numbers, booleans, lists and tables."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f'{at}["{key}"]')
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_value(item, f"{at}[{position}]")
    elif not isinstance(value, (str, bool, int)) or isinstance(value, float):
        raise SpecError(at, f"{type(value).__name__} values are not supported; use a string, a whole number, true/false, a list or a table")


def state_locations(fleet: Fleet, fleet_name: str) -> dict[str, str]:
    """Where each account's state lives, by account name: ``s3://BUCKET/KEY`` or
    ``cloud://HOST/ORGANIZATION/WORKSPACE``; empty for ``type = "none"``.

    Raises :class:`SpecError` when a name is invalid or two accounts share one (naming both).
    """
    backend = fleet.backend
    if backend.type == "cloud":
        host = backend.hostname or "app.terraform.io"
        return {account: f"cloud://{host}/{backend.organization}/{name}" for account, name in workspace_names(fleet, fleet_name).items()}
    if backend.type == "none":
        return {}
    keys = _expanded(fleet, fleet_name, "backend.key", backend.key or DEFAULT_STATE_KEY)
    for key in keys.values():
        check_state_key(key)
    return {account: f"s3://{backend.bucket}/{key}" for account, key in keys.items()}


def workspace_names(fleet: Fleet, fleet_name: str) -> dict[str, str]:
    """Each account's HCP Terraform workspace name (``backend.workspace_name``, or the default
    template when the hcp-terraform engine runs without a cloud backend); each valid and unique."""
    template = fleet.backend.workspace_name if fleet.backend.type == "cloud" else None
    names = _expanded(fleet, fleet_name, "backend.workspace_name", template or DEFAULT_WORKSPACE_NAME)
    for name in names.values():
        check_workspace_name(name, "backend.workspace_name")
    return names


def _expanded(fleet: Fleet, fleet_name: str, field: str, template: str) -> dict[str, str]:
    """``template`` for every account; two accounts with one name (ignoring case) are refused."""
    if "{fleet}" in template and not _FLEET_NAME.fullmatch(fleet_name):
        raise SpecError(field, f"{{fleet}} is the fleet file's name, {fleet_name!r}, which is not 1 to 64 letters, digits, '-' or '_': rename the file or spell the name without {{fleet}}")
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for account in fleet.accounts:
        name = expand(template, fleet_name, account.name)
        if name.lower() in seen:
            raise SpecError(field, f"accounts {seen[name.lower()]!r} and {account.name!r} both get {name!r}")
        seen[name.lower()] = account.name
        names[account.name] = name
    return names


# -- the account roots -----------------------------------------------------------------------


def root_files(fleet: Fleet, account: FleetAccount, shared: SharedModule) -> dict[str, list[Block]]:
    """The blocks of each file of ``account``'s root, by file name without ``.tf``."""
    aliases = shared.provider_aliases
    lockfile = fleet.backend.type == "s3" and _uses_lockfile(fleet.backend)
    terraform = Block(
        "terraform",
        body={
            "required_version": MIN_TERRAFORM_LOCKFILE if lockfile else MIN_TERRAFORM,
            "required_providers": nested(Block("required_providers", body={"aws": {"source": "hashicorp/aws", "version": MIN_AWS_PROVIDER}})),
        },
    )
    providers = [_provider(fleet, shared.regions[0], "", account, comment=(
        "Global IAM resources. Every provider assumes the account's deployment role; the",
        "credentials allowed to assume it come from the engine that runs this root",
        f"({ASSUME_ROLE_DOC}).",
    ))]
    providers += [_provider(fleet, region, alias, account) for region, alias in aliases]
    call: dict[str, Any] = {"source": _relative(f"{account.name}", shared.module_from_live)}
    if ACCOUNT_ID_VARIABLE in shared.variables:  # only modules with account-scoped ARNs declare it
        call[ACCOUNT_ID_VARIABLE] = account.id
    call.update((key, account.inputs[key]) for key in sorted(account.inputs))
    if aliases:
        call["providers"] = _providers_map(["aws", *(f"aws.{alias}" for _, alias in aliases)])
    blocks = {
        "versions": [terraform],
        "providers": providers,
        "main": [Block("module", ("ssm_profile",), body=call, comment=(f"The shared module, generated from {shared.spec_from_live.rsplit('/', 1)[-1]}.",))],
    }
    backend = _backend_block(fleet.backend, shared.fleet_name, account)
    if backend is not None:
        blocks["backend"] = [Block("terraform", body={backend.kind: nested(backend)})]
    return blocks


def _uses_lockfile(backend: Backend) -> bool:
    """S3 native locking unless the fleet chose DynamoDB alone (``use_lockfile`` unset)."""
    return backend.use_lockfile if backend.use_lockfile is not None else backend.dynamodb_table is None


def s3_backend_settings(backend: Backend, key: str) -> dict[str, Any]:
    """The s3 backend's arguments, as its docs name them (Terraform 1.10/1.11), without
    ``assume_role``: shared by the roots' backend block and Terragrunt's ``remote_state``."""
    body: dict[str, Any] = {"bucket": backend.bucket, "key": key, "region": backend.region}
    if backend.encrypt is not None:
        body["encrypt"] = backend.encrypt
    if backend.kms_key_id is not None:
        body["kms_key_id"] = backend.kms_key_id
    if _uses_lockfile(backend):
        body["use_lockfile"] = True
    if backend.dynamodb_table is not None:
        body["dynamodb_table"] = backend.dynamodb_table
    return body


def backend_role(backend: Backend) -> dict[str, str]:
    """The backend's ``assume_role`` arguments; empty when it assumes no role."""
    if backend.role_arn is not None:
        return {"role_arn": backend.role_arn}
    if backend.assume_role is None:
        return {}
    role = backend.assume_role
    return {k: v for k, v in (("role_arn", role.role_arn), ("session_name", role.session_name), ("external_id", role.external_id)) if v is not None}


def _backend_block(backend: Backend, fleet_name: str, account: FleetAccount) -> Block | None:
    if backend.type == "s3":
        body = s3_backend_settings(backend, expand(backend.key or DEFAULT_STATE_KEY, fleet_name, account.name))
        role = backend_role(backend)
        if role:  # the assume_role block of Terraform >= 1.6 (the top-level role_arn is deprecated)
            body["assume_role"] = nested(Block("assume_role", body=role))
        return Block("backend", ("s3",), body=body, comment=(
            f"This account's state ({S3_BACKEND_DOC}). Credentials come from the environment;",
            "a CI may add -backend-config settings (an endpoint, a profile) to terraform init.",
        ))
    if backend.type == "cloud":
        body = {"organization": backend.organization}
        if backend.hostname is not None:
            body = {"hostname": backend.hostname, **body}
        name = expand(backend.workspace_name or DEFAULT_WORKSPACE_NAME, fleet_name, account.name)
        body["workspaces"] = nested(Block("workspaces", body={"name": name}))
        return Block("cloud", body=body, comment=("This account's HCP Terraform workspace (https://developer.hashicorp.com/terraform/cli/cloud/settings).",))
    return None


def _providers_map(addresses: list[str]) -> dict[Bare, Bare]:
    """A module's ``providers`` map: provider addresses are keys Terraform reads bare, never quoted."""
    return {Bare(address): Bare(address) for address in addresses}


def _provider(fleet: Fleet, region: str, alias: str, account: FleetAccount, comment: tuple[str, ...] = ()) -> Block:
    settings = fleet.provider
    body: dict[str, Any] = {"region": region}
    if alias:
        body = {"alias": alias, **body}
    role: dict[str, Any] = {"role_arn": account.role_arn}
    if settings.session_name is not None:
        role["session_name"] = settings.session_name
    if settings.external_id is not None:
        role["external_id"] = settings.external_id
    body["assume_role"] = nested(Block("assume_role", body=role))
    body["allowed_account_ids"] = [account.id]
    if settings.max_retries is not None:
        body["max_retries"] = settings.max_retries
    if settings.retry_mode is not None:
        body["retry_mode"] = settings.retry_mode
    tags = {**settings.default_tags, **account.default_tags}
    if tags:
        body["default_tags"] = nested(Block("default_tags", body={"tags": dict(sorted(tags.items()))}))
    ignore = settings.ignore_tags
    if ignore is not None and (ignore.keys or ignore.key_prefixes):
        body["ignore_tags"] = nested(Block("ignore_tags", body={k: v for k, v in (("keys", ignore.keys), ("key_prefixes", ignore.key_prefixes)) if v}))
    return Block("provider", ("aws",), body=body, comment=comment)


def _relative(from_dir: str, to: str) -> str:
    """``to`` (relative to LIVE) as seen from ``from_dir`` (relative to LIVE), POSIX, ``./`` first."""
    depth = len(PurePosixPath(from_dir).parts)
    path = "/".join([".."] * depth + [to]) if depth else to
    return path if path.startswith("../") else f"./{path}"
