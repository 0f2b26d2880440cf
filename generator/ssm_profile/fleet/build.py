"""Fleets: one spec, one shared module, one Terraform root per AWS account.

``ssm-profile fleet FLEET -o LIVE`` generates what the engines teams already run consume
(Atlantis, a CI job matrix, Terragrunt, HCP Terraform workspaces); it never plans or applies
a fleet itself. This module is pure: it turns a validated :class:`Fleet` and the facts of the
shared module (:class:`SharedModule`) into the files of LIVE. Reading the fleet file and
writing the files happen at the edges (:func:`load_fleet`, the writer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

import msgspec

from ..adopt.imports import DEFAULT_MODULE_ADDRESS, import_blocks, module_imports
from ..aws.partitions import suggest
from ..errors import SpecError
from ..grants.build import Grants
from ..render.tfjson import json_value
from ..spec.shape import check_shape
from ..tfmodule.build import ACCOUNT_ID_VARIABLE, MIN_AWS_PROVIDER, MIN_TERRAFORM
from ..tfmodule.document import Bare, Block, nested, var

FLEET_VERSION = 1
ENGINES = ("atlantis", "matrix", "terragrunt", "hcp-terraform")
#: What each engine reads, in LIVE.
ATLANTIS_FILE = "atlantis.yaml"
MATRIX_FILE = "fleet-matrix.json"
WORKSPACES_FILE = "workspaces.tf.json"
TERRAGRUNT_FILE = "terragrunt.hcl"

# A root's folder name: portable on every file system and usable as an Atlantis project
# name and an HCP Terraform workspace name suffix (letters, digits, `-`, `_`).
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# arn:PARTITION:iam::ACCOUNT:role/PATH/NAME (IAM identifiers reference: role ARNs).
_ROLE_ARN = re.compile(r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>[0-9]{12}):role/(?:[\x21-\x7E]*/)?[A-Za-z0-9+=,.@_-]{1,64}")

ATLANTIS_DOC = "https://www.runatlantis.io/docs/repo-level-atlantis-yaml"
TFE_WORKSPACE_DOC = "https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/resources/workspace"
TERRAGRUNT_DOC = "https://terragrunt.gruntwork.io/docs/reference/config-blocks-and-attributes/"
ASSUME_ROLE_DOC = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs#assume-role"


# Subclasses carry `type: ignore[misc]`: mypy reads msgspec's dataclass_transform keywords per class
# and calls them non-frozen, but msgspec passes a Struct's configuration (frozen included) on to
# its subclasses (https://jcristharif.com/msgspec/structs.html#struct-configuration).
class _Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class FleetAccount(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """One AWS account of the fleet: its root's folder name, its ID, the role Terraform assumes."""

    name: str
    id: str
    role_arn: str
    inputs: dict[str, Any] = {}
    # Adopt what already exists in the account: its root gets imports.tf (ssm-profile imports).
    # None: the fleet's own `adopt`.
    adopt: bool | None = None


class Fleet(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """A fleet file: the base spec, where its shared module goes, the engines and the accounts."""

    version: int
    spec: str
    accounts: list[FleetAccount]
    module: str = "modules/ssm-profile"
    engines: list[Literal["atlantis", "matrix", "terragrunt", "hcp-terraform"]] = msgspec.field(default_factory=lambda: ["matrix"])
    backend: Literal["s3", "remote", "none"] = "s3"
    adopt: bool = False  # every account's root gets imports.tf, unless the account says otherwise


@dataclass(frozen=True)
class SharedModule:
    """What a fleet needs to know of the module its roots call, and where things sit.

    Paths are POSIX and relative: ``module_from_live`` from LIVE to the module folder,
    ``live_from_repo`` from the repository root to LIVE, ``spec_from_live`` and
    ``fleet_from_live`` from LIVE to the spec and the fleet file.
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


# -- reading and checking --------------------------------------------------------------------


def fleet_from_data(data: Any, source: str) -> Fleet:
    """Validate plain data (as parsed from a fleet file) into a :class:`Fleet`."""
    if not isinstance(data, dict):
        raise SpecError(source, "the top level must be a table of settings (version, spec, accounts ...)")
    check_shape(data, Fleet, {})  # the spec's own shape checker: field paths, allowed values
    try:
        fleet = msgspec.convert(data, Fleet, strict=True)
    except msgspec.ValidationError as exc:  # check_shape knows every type the structs use
        raise SpecError(source, str(exc)) from None
    if fleet.version != FLEET_VERSION:
        raise SpecError("version", f"{fleet.version} is not a fleet file version; allowed: {FLEET_VERSION}")
    if not fleet.accounts:
        raise SpecError("accounts", "needs at least one account")
    if len(set(fleet.engines)) != len(fleet.engines):
        raise SpecError("engines", "lists an engine twice")
    for field, value in (("spec", fleet.spec), ("module", fleet.module)):
        if not value or "\x00" in value or any(c in value for c in "\n\r\t"):
            raise SpecError(field, "must be a relative path to a file or folder")
    return fleet


def check_accounts(fleet: Fleet, partition: str, variables: tuple[str, ...], required: tuple[str, ...]) -> None:
    """Check what the structs cannot express: unique names and IDs, each role ARN in its own
    account and the spec's partition, and inputs the shared module has."""
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
        arn = _ROLE_ARN.fullmatch(account.role_arn)
        if arn is None:
            raise SpecError(f"{at}.role_arn", f"{account.role_arn!r} is not an IAM role ARN (arn:{partition}:iam::{account.id}:role/NAME)")
        if arn["partition"] != partition:
            raise SpecError(f"{at}.role_arn", f"is in partition {arn['partition']}, but the spec's Regions are in {partition}")
        if arn["account"] != account.id:
            raise SpecError(f"{at}.role_arn", f"is a role of account {arn['account']}, not of this account ({account.id})")
        for key in account.inputs:
            if key == ACCOUNT_ID_VARIABLE:
                raise SpecError(f'{at}.inputs["{key}"]', f"is set from {at}.id; remove it")
            if key not in settable:
                raise SpecError(f'{at}.inputs["{key}"]', f"is not an input of the shared module{suggest(key, settable)}; allowed: {', '.join(settable) or 'none'}")
            _check_value(account.inputs[key], f'{at}.inputs["{key}"]')
        for key in required:
            if key != ACCOUNT_ID_VARIABLE and key not in account.inputs:
                raise SpecError(f'{at}.inputs["{key}"]', "is required: the shared module has no default for it")


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


# -- the files of LIVE -----------------------------------------------------------------------


def fleet_files(fleet: Fleet, shared: SharedModule, header: str, grants: Grants | None = None) -> dict[str, str]:
    """Every file of LIVE: one root per account and the engines' files, keyed by relative path.

    An account that adopts (``adopt = true``) gets ``imports.tf`` from ``grants``, the shared
    module's: import blocks belong in the root (:mod:`ssm_profile.adopt.imports`).
    """
    from ..render.hcl import render_blocks

    files: dict[str, str] = {}
    for account in fleet.accounts:
        for name, blocks in _root_blocks(fleet, account, shared).items():
            files[f"{account.name}/{name}.tf"] = render_blocks(blocks, header)
        if grants is not None and (account.adopt if account.adopt is not None else fleet.adopt):
            files[f"{account.name}/imports.tf"] = render_blocks(import_blocks(module_imports(grants, account.id), DEFAULT_MODULE_ADDRESS), header)
        if "terragrunt" in fleet.engines:
            files[f"{account.name}/{TERRAGRUNT_FILE}"] = _terragrunt(header)
    if "atlantis" in fleet.engines:
        files[ATLANTIS_FILE] = _atlantis(fleet, shared, header)
    if "matrix" in fleet.engines:
        files[MATRIX_FILE] = json.dumps(_matrix(fleet, shared), indent=2) + "\n"
    if "hcp-terraform" in fleet.engines:
        files[WORKSPACES_FILE] = json.dumps(_workspaces(fleet, shared, header), indent=2) + "\n"
    return dict(sorted(files.items()))


def _root_blocks(fleet: Fleet, account: FleetAccount, shared: SharedModule) -> dict[str, list[Block]]:
    aliases = shared.provider_aliases
    terraform = Block(
        "terraform",
        body={
            "required_version": MIN_TERRAFORM,
            "required_providers": nested(Block("required_providers", body={"aws": {"source": "hashicorp/aws", "version": MIN_AWS_PROVIDER}})),
        },
    )
    providers = [_provider(shared.regions[0], "", account, comment=(
        "Global IAM resources. Every provider assumes the account's deployment role; the",
        "credentials allowed to assume it come from the engine that runs this root",
        f"({ASSUME_ROLE_DOC}).",
    ))]
    providers += [_provider(region, alias, account) for region, alias in aliases]
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
    if fleet.backend != "none":
        blocks["backend"] = [
            Block(
                "terraform",
                body={"backend": nested(Block("backend", (fleet.backend,), comment=(
                    "Partial configuration: the engine supplies the rest with -backend-config",
                    "(https://developer.hashicorp.com/terraform/language/backend#partial-configuration).",
                )))},
            )
        ]
    return blocks


def _providers_map(addresses: list[str]) -> dict[Bare, Bare]:
    """A module's ``providers`` map: provider addresses are keys Terraform reads bare, never quoted."""
    return {Bare(address): Bare(address) for address in addresses}


def _provider(region: str, alias: str, account: FleetAccount, comment: tuple[str, ...] = ()) -> Block:
    body: dict[str, Any] = {"region": region}
    if alias:
        body = {"alias": alias, **body}
    body["assume_role"] = nested(Block("assume_role", body={"role_arn": account.role_arn}))
    body["allowed_account_ids"] = [account.id]
    return Block("provider", ("aws",), body=body, comment=comment)


def _relative(from_dir: str, to: str) -> str:
    """``to`` (relative to LIVE) as seen from ``from_dir`` (relative to LIVE), POSIX, ``./`` first."""
    depth = len(PurePosixPath(from_dir).parts)
    path = "/".join([".."] * depth + [to]) if depth else to
    return path if path.startswith("../") else f"./{path}"


def _from_repo(shared: SharedModule, path_from_live: str) -> str:
    """A path relative to LIVE, made relative to the repository root (what Atlantis and CI call ``dir``)."""
    return _normal(f"{shared.live_from_repo}/{path_from_live}") or "."


def _atlantis(fleet: Fleet, shared: SharedModule, header: str) -> str:
    import yaml

    projects = []
    for account in fleet.accounts:
        # when_modified paths are relative to the project's dir, which is LIVE/<name>.
        watched = ["*.tf", "*.tf.json", ".terraform.lock.hcl"]
        watched += [f"../{shared.module_from_live}/**/*.tf*", f"../{shared.spec_from_live}", f"../{shared.fleet_from_live}"]
        projects.append(
            {
                "name": account.name,
                "dir": _from_repo(shared, account.name),
                "autoplan": {"enabled": True, "when_modified": [_normal(w) for w in watched]},
            }
        )
    document = {"version": 3, "projects": projects}
    lines = [
        f"# {header}",
        f"# Atlantis repo config, version 3 ({ATLANTIS_DOC}):",
        "# one project per account root; each plans when its root, the shared module, the spec or",
        "# the fleet file changes. Atlantis reads this file at the repository root (or where the",
        "# server-side repo_config_file setting points).",
    ]
    return "\n".join(lines) + "\n" + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)


def _normal(path: str) -> str:
    """Collapse ``a/../b`` and ``./`` in a relative POSIX path, keeping leading ``..``."""
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and out and out[-1] != "..":
            out.pop()
        else:
            out.append(part)
    return "/".join(out)


def _matrix(fleet: Fleet, shared: SharedModule) -> list[dict[str, str]]:
    return [{"name": a.name, "dir": _from_repo(shared, a.name), "account_id": a.id} for a in fleet.accounts]


def _workspaces(fleet: Fleet, shared: SharedModule, header: str) -> dict[str, Any]:
    """A bootstrap root (Terraform JSON) that creates one HCP Terraform workspace per account root."""
    workspaces = {}
    for account in fleet.accounts:
        root = _from_repo(shared, account.name)
        workspaces[account.name.replace("-", "_")] = {
            "name": f"ssm-profile-{account.name}",
            "organization": var("organization"),
            "description": f"ssm-profile instance profile for account {account.id}.",
            "working_directory": root,
            "trigger_prefixes": sorted({root, *(_from_repo(shared, p) for p in (shared.module_from_live, shared.spec_from_live, shared.fleet_from_live))}),
            "tag_names": ["ssm-profile"],
        }
    return {
        "//": f"{header} HCP Terraform workspaces ({TFE_WORKSPACE_DOC}): apply this root with the tfe provider.",
        "terraform": {"required_providers": {"tfe": {"source": "hashicorp/tfe", "version": ">= 0.51"}}},
        "variable": {"organization": {"type": "string", "description": "The HCP Terraform organization that holds the workspaces."}},
        # Paths come from the user's folder names: through the one escaping path, as every value.
        "resource": {"tfe_workspace": json_value(workspaces)},
    }


def _terragrunt(header: str) -> str:
    return "\n".join(
        [
            f"# {header}",
            f"# Terragrunt ({TERRAGRUNT_DOC}) runs Terraform in this folder: the root is plain Terraform,",
            "# so this file needs no terraform { source }. `terragrunt run --all plan` in LIVE plans every",
            "# account (`terragrunt run-all plan` before Terragrunt 0.73). Add a remote_state block here, or",
            "# include a parent file of yours, to supply the partial backend's settings.",
            "",
        ]
    )
