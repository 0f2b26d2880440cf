"""The fleet file's schema: its tables, and the checks of each field that need no shared module.

Each table is a public contract (docs/fleets-engines.md): ``[backend]`` (where each account's
state lives), ``[atlantis]``, ``[hcp_terraform]`` and ``[provider]`` (what every root's providers
add). Values that become Terraform or engine configuration are held to the character sets the
service documents, so they can never carry a template sequence or a quote into a generated file.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from ..errors import SpecError
from ..spec.shape import check_shape

FLEET_VERSION = 1
#: The default state key and HCP Terraform workspace name: one per fleet and account.
DEFAULT_STATE_KEY = "{fleet}/{account}/terraform.tfstate"
DEFAULT_WORKSPACE_NAME = "{fleet}-{account}"
TEMPLATE_FIELDS = ("fleet", "account")

S3_BACKEND_DOC = "https://developer.hashicorp.com/terraform/language/backend/s3"
CLOUD_BLOCK_DOC = "https://developer.hashicorp.com/terraform/cli/cloud/settings"

# Bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
# S3 object keys: the "safe characters" of the object key naming guide
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
_S3_KEY = re.compile(r"[A-Za-z0-9!_.*'()/-]{1,1024}")
# DynamoDB table names (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
_DYNAMODB_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_KMS_KEY = re.compile(r"arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:[0-9]{12}:(?:key|alias)/[A-Za-z0-9/_-]{1,256}|[0-9a-f-]{36}|alias/[A-Za-z0-9/_-]{1,256}")
# IAM role ARNs, session names and external IDs (AssumeRole API reference).
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}")
_SESSION_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{2,64}")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9+=,.@:/_-]{2,1224}")
# HCP Terraform: organization and workspace names are letters, numbers, '-' and '_'; a
# workspace name is at most 90 characters (https://developer.hashicorp.com/terraform/cloud-docs/workspaces/create).
_ORGANIZATION = re.compile(r"[A-Za-z0-9_-]{1,255}")
_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{1,90}")
_HOSTNAME = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_VCS_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")
_BRANCH = re.compile(r"[A-Za-z0-9_./-]{1,255}")
_PROJECT = re.compile(r"[A-Za-z0-9 _-]{1,40}")
# tag_names: lowercase letters, numbers, colons, hyphens and underscores (tfe_workspace docs).
_TAG = re.compile(r"[a-z0-9][a-z0-9:_-]{0,254}")
_WORKFLOW = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_PATH_PREFIX = re.compile(r"[A-Za-z0-9_./-]{1,1024}")
# AWS tag keys and values (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
_TAG_KEY = re.compile(r"[\w .:/=+@-]{1,128}")
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{0,256}")
_RETRY_MODES = ("standard", "adaptive")


class _Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class AssumeRole(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """The S3 backend's ``assume_role`` block (Terraform >= 1.6)."""

    role_arn: str
    session_name: str | None = None
    external_id: str | None = None


class Backend(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """``[backend]``: where each account root keeps its state."""

    type: Literal["s3", "cloud", "none"] = "none"
    # s3
    bucket: str | None = None
    region: str | None = None
    key: str | None = None
    use_lockfile: bool | None = None
    dynamodb_table: str | None = None
    role_arn: str | None = None
    assume_role: AssumeRole | None = None
    encrypt: bool | None = None
    kms_key_id: str | None = None
    # cloud
    organization: str | None = None
    hostname: str | None = None
    workspace_name: str | None = None


_S3_FIELDS = ("bucket", "region", "key", "use_lockfile", "dynamodb_table", "role_arn", "assume_role", "encrypt", "kms_key_id")
_CLOUD_FIELDS = ("organization", "hostname", "workspace_name")


class AtlantisSettings(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """``[atlantis]``: what this fleet's projects add to the repository's ``atlantis.yaml``."""

    workflow: str | None = None
    apply_requirements: list[Literal["approved", "mergeable", "undiverged"]] = []
    execution_order_group: int | None = None


class VcsRepo(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """``[hcp_terraform.vcs_repo]``: the repository HCP Terraform watches."""

    identifier: str
    branch: str | None = None


class HcpTerraformSettings(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """``[hcp_terraform]``: the workspaces' VCS connection, project and tags."""

    vcs_repo: VcsRepo | None = None
    project: str | None = None
    tags: list[str] = []
    trigger_prefixes: list[str] = []


class IgnoreTags(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    keys: list[str] = []
    key_prefixes: list[str] = []


class ProviderSettings(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """``[provider]``: settings every ``aws`` provider block of every root gets."""

    default_tags: dict[str, str] = {}
    ignore_tags: IgnoreTags | None = None
    max_retries: int | None = None
    retry_mode: str | None = None
    session_name: str | None = None
    external_id: str | None = None


class FleetAccount(_Table):  # type: ignore[misc]  # msgspec: frozen is inherited
    """One AWS account of the fleet: its root's folder name, its ID, the role Terraform assumes."""

    name: str
    id: str
    role_arn: str
    inputs: dict[str, Any] = {}
    default_tags: dict[str, str] = {}
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
    backend: Backend = msgspec.field(default_factory=Backend)
    atlantis: AtlantisSettings = msgspec.field(default_factory=AtlantisSettings)
    hcp_terraform: HcpTerraformSettings = msgspec.field(default_factory=HcpTerraformSettings)
    provider: ProviderSettings = msgspec.field(default_factory=ProviderSettings)
    adopt: bool = False  # every account's root gets imports.tf, unless the account says otherwise


def fleet_from_data(data: Any, source: str) -> Fleet:
    """Validate plain data (as parsed from a fleet file) into a :class:`Fleet`."""
    if not isinstance(data, dict):
        raise SpecError(source, "the top level must be a table of settings (version, spec, accounts ...)")
    if isinstance(data.get("backend"), str):  # the partial-backend string of earlier releases
        raise SpecError("backend", f'{data["backend"]!r}: the backend is now a table: [backend] type = "s3", "cloud" or "none" (see docs/fleets-engines.md)')
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
    check_backend(fleet.backend)
    if "hcp-terraform" in fleet.engines and fleet.backend.type == "s3":
        raise SpecError("backend.type", '"s3" cannot be used with the hcp-terraform engine (its workspaces keep the state); use "cloud" or "none"')
    _check_settings(fleet)
    return fleet


def check_backend(backend: Backend) -> None:
    """Each field of ``[backend]`` belongs to its type and has the form its service allows."""
    own = {"s3": _S3_FIELDS, "cloud": _CLOUD_FIELDS, "none": ()}[backend.type]
    for field in (*_S3_FIELDS, *_CLOUD_FIELDS):
        if getattr(backend, field) is not None and field not in own:
            raise SpecError(f"backend.{field}", f'is not a setting of type = "{backend.type}"; its settings: {", ".join(own) or "none"}')
    if backend.type == "s3":
        for field in ("bucket", "region"):
            if getattr(backend, field) is None:
                raise SpecError(f"backend.{field}", 'is required with type = "s3"')
        _match("backend.bucket", backend.bucket, _BUCKET, "an S3 bucket name (3 to 63 lowercase letters, digits, '.' and '-')")
        _match("backend.region", backend.region, _REGION, "a Region name such as us-east-1")
        _match("backend.dynamodb_table", backend.dynamodb_table, _DYNAMODB_TABLE, "a DynamoDB table name")
        _match("backend.kms_key_id", backend.kms_key_id, _KMS_KEY, "a KMS key ARN, key ID or alias")
        _match("backend.role_arn", backend.role_arn, _ROLE_ARN, "an IAM role ARN")
        if backend.role_arn is not None and backend.assume_role is not None:
            raise SpecError("backend.role_arn", "give the role once: role_arn or [backend.assume_role], not both")
        if backend.assume_role is not None:
            _match("backend.assume_role.role_arn", backend.assume_role.role_arn, _ROLE_ARN, "an IAM role ARN")
            _match("backend.assume_role.session_name", backend.assume_role.session_name, _SESSION_NAME, "2 to 64 of letters, digits and +=,.@_-")
            _match("backend.assume_role.external_id", backend.assume_role.external_id, _EXTERNAL_ID, "2 to 1224 of letters, digits and +=,.@:/_-")
        if backend.kms_key_id is not None and backend.encrypt is not True:
            raise SpecError("backend.kms_key_id", "needs encrypt = true (the key encrypts the state object)")
        if backend.use_lockfile is False and backend.dynamodb_table is None:
            raise SpecError("backend.use_lockfile", "is false and no dynamodb_table is set: the state would not be locked")
        check_template("backend.key", backend.key or DEFAULT_STATE_KEY)
    if backend.type == "cloud":
        if backend.organization is None:
            raise SpecError("backend.organization", 'is required with type = "cloud"')
        _match("backend.organization", backend.organization, _ORGANIZATION, "an HCP Terraform organization name (letters, digits, '-', '_')")
        _match("backend.hostname", backend.hostname, _HOSTNAME, "a host name such as app.terraform.io")
        check_template("backend.workspace_name", backend.workspace_name or DEFAULT_WORKSPACE_NAME)


def check_template(field: str, template: str) -> None:
    """A name template names ``{account}`` (each account its own state) and nothing unknown."""
    rest = template.replace("{fleet}", "").replace("{account}", "")
    if "{" in rest or "}" in rest:
        raise SpecError(field, f"{template!r}: the only placeholders are {{fleet}} and {{account}}")
    if "{account}" not in template:
        raise SpecError(field, f"{template!r} must contain {{account}}: each account keeps its own state")


def expand(template: str, fleet: str, account: str) -> str:
    """A name template with the fleet's and the account's names filled in."""
    return template.replace("{fleet}", fleet).replace("{account}", account)


def check_state_key(key: str, field: str = "backend.key") -> None:
    """An expanded state key: S3's safe characters, no empty segment (S3 backend docs)."""
    _match(field, key, _S3_KEY, "an S3 key of letters, digits and !_.*'()/- (S3's safe characters)")
    if key.startswith("/") or key.endswith("/") or "//" in key:
        raise SpecError(field, f"{key!r} must not start or end with '/' nor contain '//' ({S3_BACKEND_DOC})")


def check_workspace_name(name: str, field: str) -> None:
    """An expanded HCP Terraform workspace name."""
    _match(field, name, _WORKSPACE, "an HCP Terraform workspace name: 1 to 90 letters, digits, '-' or '_'")


def _check_settings(fleet: Fleet) -> None:
    atlantis, hcp, provider = fleet.atlantis, fleet.hcp_terraform, fleet.provider
    _match("atlantis.workflow", atlantis.workflow, _WORKFLOW, "a workflow name (letters, digits, '_', '.', '-')")
    if len(set(atlantis.apply_requirements)) != len(atlantis.apply_requirements):
        raise SpecError("atlantis.apply_requirements", "lists a requirement twice")
    if hcp.vcs_repo is not None:
        _match("hcp_terraform.vcs_repo.identifier", hcp.vcs_repo.identifier, _VCS_IDENTIFIER, "ORGANIZATION/REPOSITORY")
        _match("hcp_terraform.vcs_repo.branch", hcp.vcs_repo.branch, _BRANCH, "a branch name")
    _match("hcp_terraform.project", hcp.project, _PROJECT, "an HCP Terraform project name (1 to 40 letters, digits, spaces, '-', '_')")
    for index, tag in enumerate(hcp.tags):
        _match(f"hcp_terraform.tags[{index}]", tag, _TAG, "lowercase letters, digits, ':', '-' and '_'")
    for index, prefix in enumerate(hcp.trigger_prefixes):
        _match(f"hcp_terraform.trigger_prefixes[{index}]", prefix, _PATH_PREFIX, "a path relative to the repository")
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise SpecError(f"hcp_terraform.trigger_prefixes[{index}]", f"{prefix!r} must be a path inside the repository")
    _check_tags("provider.default_tags", provider.default_tags)
    for index, account in enumerate(fleet.accounts):
        _check_tags(f"accounts[{index}].default_tags", account.default_tags)
    if provider.ignore_tags is not None:
        for field in ("keys", "key_prefixes"):
            for index, key in enumerate(getattr(provider.ignore_tags, field)):
                _match(f"provider.ignore_tags.{field}[{index}]", key, _TAG_KEY, "a tag key")
    if provider.max_retries is not None and not 0 <= provider.max_retries <= 100:
        raise SpecError("provider.max_retries", f"{provider.max_retries} must be 0 to 100")
    if provider.retry_mode is not None and provider.retry_mode not in _RETRY_MODES:
        raise SpecError("provider.retry_mode", f"{provider.retry_mode!r}; allowed: {', '.join(_RETRY_MODES)}")
    _match("provider.session_name", provider.session_name, _SESSION_NAME, "2 to 64 of letters, digits and +=,.@_-")
    _match("provider.external_id", provider.external_id, _EXTERNAL_ID, "2 to 1224 of letters, digits and +=,.@:/_-")


def _check_tags(field: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        _match(f'{field}["{key}"]' if _TAG_KEY.fullmatch(key) else field, key, _TAG_KEY, "a tag key: 1 to 128 letters, digits, spaces and _.:/=+@-")
        if key.lower().startswith("aws:"):
            raise SpecError(f'{field}["{key}"]', "the aws: prefix is reserved for AWS")
        _match(f'{field}["{key}"]', value, _TAG_VALUE, "a tag value: up to 256 letters, digits, spaces and _.:/=+@-")


def _match(field: str, value: str | None, pattern: re.Pattern[str], what: str) -> None:
    if value is not None and not pattern.fullmatch(value):
        raise SpecError(field, f"{_shown(value)} is not {what}")


def _shown(value: str) -> str:
    """``value`` quoted on one line, cut short: a message stays one line however long the input."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"
