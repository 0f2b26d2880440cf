"""What exists in an account: the JSON of ``aws iam get-account-authorization-details``.

The one command a user runs with their own credentials; ssm-profile never calls AWS. Its shape
is the API's GetAccountAuthorizationDetails response —
https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html —
``RoleDetailList[]`` (RoleDetail: RoleName, Path, Arn, AssumeRolePolicyDocument,
AttachedManagedPolicies[], InstanceProfileList[], RolePolicyList[], Tags[], PermissionsBoundary)
and ``Policies[]`` (ManagedPolicyDetail: PolicyName, Path, Arn, Description,
PolicyVersionList[] with Document and IsDefaultVersion). A RoleDetail has no Description or
MaxSessionDuration; the Role objects inside its instance profiles (``Roles[]``) do, and are
read for them when present.

Policy documents arrive URL-encoded in the raw API response (RFC 3986, as IAM returns every
policy document) and already decoded to JSON objects in the AWS CLI's and boto3's output;
both are accepted. Pure: the caller reads the file (through the bounded reader).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import msgspec

from ..errors import SpecError, shown

#: The AWS CLI's output for a large account runs to megabytes; far below this.
_ARN_ACCOUNT = re.compile(r"arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>[0-9]{12}):")


class _Api(msgspec.Struct, rename="pascal", frozen=True):
    """AWS's PascalCase keys; fields AWS adds later are ignored."""


class _Tag(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    key: str
    value: str


class _Attached(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    policy_name: str
    policy_arn: str


class _Boundary(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    permissions_boundary_arn: str = ""


class _ProfileRole(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    role_name: str = ""
    description: str | None = None
    max_session_duration: int | None = None


class _Profile(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    instance_profile_name: str
    path: str = "/"
    roles: list[_ProfileRole] = []


class _Inline(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    policy_name: str


class _Role(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    role_name: str
    arn: str
    path: str = "/"
    assume_role_policy_document: Any = None
    attached_managed_policies: list[_Attached] = []
    instance_profile_list: list[_Profile] = []
    role_policy_list: list[_Inline] = []
    tags: list[_Tag] = []
    permissions_boundary: _Boundary | None = None


class _Version(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    document: Any = None
    is_default_version: bool = False


class _Policy(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    arn: str
    policy_name: str = ""  # always there in AWS's answer; derived from the ARN when absent
    path: str = "/"
    description: str | None = None
    policy_version_list: list[_Version] = []


class _Details(_Api):  # type: ignore[misc]  # msgspec: frozen is inherited
    role_detail_list: list[_Role] = []
    policies: list[_Policy] = []
    is_truncated: bool = False


class InstanceProfileDetail(msgspec.Struct, frozen=True):
    """An instance profile, as its role's RoleDetail lists it."""

    name: str
    path: str


class RoleDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An existing role. ``description`` and ``max_session_duration`` are None when the file does not say."""

    name: str
    arn: str
    path: str
    trust: dict[str, Any]
    attached: dict[str, str]  # policy ARN -> policy name
    instance_profiles: tuple[InstanceProfileDetail, ...]
    inline_policies: tuple[str, ...]
    tags: dict[str, str]
    permissions_boundary: str
    description: str | None = None
    max_session_duration: int | None = None

    def trusted_services(self) -> list[str]:
        """The service principals every Allow statement of the trust policy names, sorted."""
        services: set[str] = set()
        for statement in statements_of(self.trust):
            principal = statement.get("Principal")
            service = principal.get("Service", []) if isinstance(principal, dict) else []
            services.update([service] if isinstance(service, str) else service)
        return sorted(services)


class PolicyDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An existing customer managed policy and its default version's document."""

    name: str
    arn: str
    path: str
    description: str
    document: dict[str, Any]


class AccountDetails(msgspec.Struct, frozen=True, kw_only=True):
    """The roles and customer managed policies of one account."""

    source: str
    account: str
    partition: str
    roles: tuple[RoleDetail, ...]
    policies: tuple[PolicyDetail, ...]

    def role(self, name: str) -> RoleDetail | None:
        """The role named ``name``: IAM names are unique ignoring case, so a match ignores it too."""
        return next((r for r in self.roles if r.name.lower() == name.lower()), None)

    def policy(self, arn: str) -> PolicyDetail | None:
        """The customer managed policy with this ARN."""
        return next((p for p in self.policies if p.arn == arn), None)

    def policy_named(self, name: str) -> PolicyDetail | None:
        """The customer managed policy named ``name`` (ignoring case), at any path."""
        return next((p for p in self.policies if p.name.lower() == name.lower()), None)

    def instance_profile(self, name: str) -> tuple[InstanceProfileDetail, RoleDetail] | None:
        """The instance profile named ``name`` (ignoring case) and the role it holds."""
        for role in self.roles:
            for profile in role.instance_profiles:
                if profile.name.lower() == name.lower():
                    return profile, role
        return None


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy document's statements (IAM allows one statement object or a list)."""
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]


def as_list(value: Any) -> list[str]:
    """A policy element that IAM allows as one string or a list, as a list."""
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def _document(value: Any, at: str) -> dict[str, Any]:
    """A policy document given decoded (CLI, boto3) or URL-encoded (the raw API)."""
    if isinstance(value, str):
        try:
            value = json.loads(urllib.parse.unquote(value))
        except ValueError:
            raise SpecError(at, "is not a policy document (JSON, or URL-encoded JSON as the IAM API returns it)") from None
    if not isinstance(value, dict):
        raise SpecError(at, f"is not a policy document: {shown(value)}")
    return value


def _role(raw: _Role, index: int) -> RoleDetail:
    from_profiles = [r for p in raw.instance_profile_list for r in p.roles if r.role_name == raw.role_name]
    return RoleDetail(
        name=raw.role_name,
        arn=raw.arn,
        path=raw.path,
        trust=_document(raw.assume_role_policy_document or {}, f"RoleDetailList[{index}].AssumeRolePolicyDocument"),
        attached={a.policy_arn: a.policy_name for a in raw.attached_managed_policies},
        instance_profiles=tuple(InstanceProfileDetail(p.instance_profile_name, p.path) for p in raw.instance_profile_list),
        inline_policies=tuple(p.policy_name for p in raw.role_policy_list),
        tags={t.key: t.value for t in raw.tags},
        permissions_boundary=raw.permissions_boundary.permissions_boundary_arn if raw.permissions_boundary else "",
        description=next((r.description for r in from_profiles if r.description is not None), None),
        max_session_duration=next((r.max_session_duration for r in from_profiles if r.max_session_duration), None),
    )


def _policy(raw: _Policy, index: int) -> PolicyDetail:
    default = next((v for v in raw.policy_version_list if v.is_default_version), None)
    document = _document(default.document, f"Policies[{index}].PolicyVersionList") if default else {}
    return PolicyDetail(name=raw.policy_name or raw.arn.rsplit("/", 1)[-1], arn=raw.arn, path=raw.path, description=raw.description or "", document=document)


def parse_account_details(data: bytes, source: str) -> AccountDetails:
    """Validate the JSON of ``aws iam get-account-authorization-details``; :class:`SpecError`
    (one line naming ``source``) when it is not that."""
    try:
        raw = msgspec.json.decode(data, type=_Details)
    except msgspec.ValidationError as exc:
        raise SpecError(source, f"is not the output of aws iam get-account-authorization-details: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise SpecError(source, f"is not JSON: {exc}") from None
    if raw.is_truncated:  # one page of a paginated answer: the AWS CLI gathers every page unless --max-items is given
        raise SpecError(source, "is one page of the answer (IsTruncated is true); run the AWS CLI without --max-items")
    found = next((m for m in (_ARN_ACCOUNT.match(r.arn) for r in raw.role_detail_list) if m), None)
    if not raw.role_detail_list or found is None:
        raise SpecError(source, "lists no role (RoleDetailList); run: aws iam get-account-authorization-details --output json > FILE")
    return AccountDetails(
        source=source,
        account=found["account"],
        partition=found["partition"],
        roles=tuple(_role(r, i) for i, r in enumerate(raw.role_detail_list)),
        # Only customer managed policies: AWS managed ones (the account "aws") are never adopted.
        policies=tuple(_policy(p, i) for i, p in enumerate(raw.policies) if ":iam::aws:" not in p.arn),
    )
