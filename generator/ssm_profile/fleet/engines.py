"""The files each engine reads, beside the account roots: pure, from the fleet and its layout.

- Atlantis: :func:`atlantis_projects` gives this fleet's projects; the repository's one
  ``atlantis.yaml`` is assembled from every fleet's (:mod:`.atlantis_file`).
- Terragrunt: ``root.hcl`` in LIVE (``remote_state`` from ``[backend]``) and a
  ``terragrunt.hcl`` per root that includes it.
- HCP Terraform: ``workspaces.tf.json``, a bootstrap root creating one VCS-driven workspace per root.
- A CI matrix: ``fleet-matrix.json``.
"""

from __future__ import annotations

import json
from typing import Any

from ..adopt.imports import DEFAULT_MODULE_ADDRESS, import_blocks, module_imports
from ..grants.build import Grants
from ..render.tfjson import json_value
from ..tfmodule.document import Block, Call, Ref, Template, var
from .build import SharedModule, backend_role, root_files, s3_backend_settings, workspace_names
from .schema import DEFAULT_STATE_KEY, AtlantisSettings, Fleet, expand

MATRIX_FILE = "fleet-matrix.json"
WORKSPACES_FILE = "workspaces.tf.json"
TERRAGRUNT_FILE = "terragrunt.hcl"
#: Terragrunt's root configuration: named root.hcl, not terragrunt.hcl, so `run --all` in LIVE
#: does not take LIVE itself for a unit (https://terragrunt.gruntwork.io/docs/migrate/migrating-from-root-terragrunt-hcl/).
TERRAGRUNT_ROOT_FILE = "root.hcl"
#: Every generated Atlantis project's name starts so: the repository's own projects never do.
ATLANTIS_PROJECT_PREFIX = "ssm-profile/"

ATLANTIS_DOC = "https://www.runatlantis.io/docs/repo-level-atlantis-yaml.html"
TFE_WORKSPACE_DOC = "https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/resources/workspace"
TFE_PROJECT_DOC = "https://registry.terraform.io/providers/hashicorp/tfe/latest/docs/data-sources/project"
TERRAGRUNT_DOC = "https://terragrunt.gruntwork.io/docs/reference/hcl/blocks/"
MIN_TFE_PROVIDER = ">= 0.51"


def fleet_files(fleet: Fleet, shared: SharedModule, header: str, grants: Grants | None = None) -> dict[str, str]:
    """Every file of LIVE: one root per account and the engines' files, keyed by relative path.

    An account that adopts (``adopt = true``) gets ``imports.tf`` from ``grants``, the shared
    module's: import blocks belong in the root (:mod:`ssm_profile.adopt.imports`).
    """
    from ..render.hcl import render_blocks

    files: dict[str, str] = {}
    for account in fleet.accounts:
        for name, blocks in root_files(fleet, account, shared).items():
            files[f"{account.name}/{name}.tf"] = render_blocks(blocks, header)
        if grants is not None and (account.adopt if account.adopt is not None else fleet.adopt):
            files[f"{account.name}/imports.tf"] = render_blocks(import_blocks(module_imports(grants, account.id), DEFAULT_MODULE_ADDRESS), header)
        if "terragrunt" in fleet.engines:
            files[f"{account.name}/{TERRAGRUNT_FILE}"] = render_blocks([_terragrunt_include()], header)
    if "terragrunt" in fleet.engines:
        files[TERRAGRUNT_ROOT_FILE] = render_blocks(_terragrunt_root(fleet, shared), header)
    if "matrix" in fleet.engines:
        files[MATRIX_FILE] = json.dumps(_matrix(fleet, shared), indent=2) + "\n"
    if "hcp-terraform" in fleet.engines:
        files[WORKSPACES_FILE] = json.dumps(_workspaces(fleet, shared, header), indent=2) + "\n"
    return dict(sorted(files.items()))


# -- Atlantis --------------------------------------------------------------------------------


def atlantis_projects(
    settings: AtlantisSettings, accounts: tuple[str, ...], live_from_repo: str, module_from_live: str, spec_from_live: str, fleet_from_live: str
) -> list[dict[str, Any]]:
    """One Atlantis project (repo config version 3, ``projects[]``) per account root.

    ``dir`` is relative to the repository root; ``when_modified`` to the project's dir (Atlantis
    docs, Autoplan): the root's own files, the shared module, the spec and the fleet file.
    """
    projects = []
    for account in accounts:
        watched = ["*.tf", "*.tf.json", ".terraform.lock.hcl"]
        watched += [f"../{module_from_live}/**/*.tf*", f"../{spec_from_live}", f"../{fleet_from_live}"]
        project: dict[str, Any] = {
            "name": ATLANTIS_PROJECT_PREFIX + _normal(f"{live_from_repo}/{account}"),
            "dir": _normal(f"{live_from_repo}/{account}") or ".",
            "autoplan": {"enabled": True, "when_modified": [_normal(w) for w in watched]},
        }
        if settings.workflow is not None:
            project["workflow"] = settings.workflow
        if settings.apply_requirements:
            project["apply_requirements"] = list(settings.apply_requirements)
        if settings.execution_order_group is not None:
            project["execution_order_group"] = settings.execution_order_group
        projects.append(project)
    return projects


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


def _from_repo(shared: SharedModule, path_from_live: str) -> str:
    """A path relative to LIVE, made relative to the repository root (what Atlantis and CI call ``dir``)."""
    return _normal(f"{shared.live_from_repo}/{path_from_live}") or "."


# -- a CI matrix and HCP Terraform -------------------------------------------------------------


def _matrix(fleet: Fleet, shared: SharedModule) -> list[dict[str, str]]:
    return [{"name": a.name, "dir": _from_repo(shared, a.name), "account_id": a.id} for a in fleet.accounts]


def workspace_label(account: str) -> str:
    """The ``tfe_workspace`` resource name of ``account``'s root: the account name itself, which
    is a valid identifier (letters, digits, '-', '_') unless it starts with a digit; then an
    underscore first (https://developer.hashicorp.com/terraform/language/syntax/configuration#identifiers).
    Account names start with a letter or digit, so no two accounts get one label."""
    return account if account[0].isalpha() else f"_{account}"


def _workspaces(fleet: Fleet, shared: SharedModule, header: str) -> dict[str, Any]:
    """A bootstrap root (Terraform JSON) that creates one HCP Terraform workspace per account root."""
    hcp, backend = fleet.hcp_terraform, fleet.backend
    names = workspace_names(fleet, shared.fleet_name)
    variables: dict[str, Any] = {}
    organization: Any = backend.organization
    if backend.type != "cloud":
        organization = var("organization")
        variables["organization"] = {"type": "string", "description": "The HCP Terraform organization that holds the workspaces."}
    shared_prefixes = [_from_repo(shared, p) for p in (shared.module_from_live, shared.spec_from_live, shared.fleet_from_live)]
    workspaces = {}
    for account in fleet.accounts:
        root = _from_repo(shared, account.name)
        workspace: dict[str, Any] = {
            "name": names[account.name],
            "organization": organization,
            "description": f"ssm-profile instance profile for account {account.id}.",
            "working_directory": root,
            "trigger_prefixes": sorted({root, *shared_prefixes, *hcp.trigger_prefixes}),
            "tag_names": sorted({"ssm-profile", *hcp.tags}),
        }
        if hcp.project is not None:
            workspace["project_id"] = Ref("data.tfe_project.fleet.id")
        if hcp.vcs_repo is not None:
            repo: dict[str, Any] = {"identifier": hcp.vcs_repo.identifier, "oauth_token_id": var("oauth_token_id")}
            if hcp.vcs_repo.branch is not None:
                repo["branch"] = hcp.vcs_repo.branch
            workspace["vcs_repo"] = [repo]
        workspaces[workspace_label(account.name)] = workspace
    if hcp.vcs_repo is not None:
        variables["oauth_token_id"] = {"type": "string", "sensitive": True, "description": "The OAuth token ID of the VCS provider connected to HCP Terraform."}
    document: dict[str, Any] = {
        "//": f"{header} HCP Terraform workspaces ({TFE_WORKSPACE_DOC}): apply this root with the tfe provider.",
        "terraform": {"required_providers": {"tfe": {"source": "hashicorp/tfe", "version": MIN_TFE_PROVIDER}}},
    }
    if variables:
        document["variable"] = variables
    if hcp.project is not None:  # the project by name (TFE_PROJECT_DOC)
        document["data"] = {"tfe_project": {"fleet": json_value({"name": hcp.project, "organization": organization})}}
    # Names and paths come from the fleet file and the user's folders: through the one escaping path.
    document["resource"] = {"tfe_workspace": json_value(workspaces)}
    return document


# -- Terragrunt ------------------------------------------------------------------------------


def _terragrunt_include() -> Block:
    return Block(
        "include",
        ("root",),
        body={"path": Call("find_in_parent_folders", (TERRAGRUNT_ROOT_FILE,))},
        comment=(
            f"Terragrunt ({TERRAGRUNT_DOC}) runs Terraform in this folder (the root is plain Terraform,",
            f"so no terraform {{ source }}); the fleet's settings come from LIVE/{TERRAGRUNT_ROOT_FILE}.",
        ),
    )


def _terragrunt_root(fleet: Fleet, shared: SharedModule) -> list[Block]:
    """``remote_state`` from ``[backend]`` (s3); other backends are in each root's own files."""
    backend = fleet.backend
    if backend.type != "s3":
        return [Block("locals", body={"fleet": shared.fleet_name}, comment=(
            "Terragrunt root configuration of this fleet: `terragrunt run --all plan` in LIVE plans every account.",
            f"Each root's own files hold its backend (type = {backend.type}): no remote_state is needed.",
        ))]
    template = backend.key or DEFAULT_STATE_KEY
    # path_relative_to_include() is the account root's folder relative to LIVE: its name.
    literal = expand(template, shared.fleet_name, "\x00").split("\x00")  # the text around each {account}
    parts: list[Any] = [literal[0]]
    for text in literal[1:]:
        parts += [Call("path_relative_to_include"), text]
    config: dict[str, Any] = s3_backend_settings(backend, "")
    config["key"] = Template(tuple(p for p in parts if p != ""))
    role = backend_role(backend)
    if role:
        config["assume_role"] = role
    body = {
        "backend": "s3",
        # Each root already holds this very backend block (backend.tf, generated from the same
        # [backend]); "skip" keeps it, so Terragrunt and a plain `terraform init` use one state.
        "generate": {"path": "backend.tf", "if_exists": "skip"},
        "config": config,
    }
    return [Block("remote_state", body=body, comment=(
        "Terragrunt root configuration of this fleet: `terragrunt run --all plan` in LIVE plans every account.",
        f"remote_state ({TERRAGRUNT_DOC}#remote_state): each account's state, as in its backend.tf.",
    ))]
