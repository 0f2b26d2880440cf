"""The module's README.md: what it grants and why, a diagram, the permissions table a
reviewer reads in a pull request, usage with the provider wiring, and the block between
``<!-- BEGIN_TF_DOCS -->`` markers, written as terraform-docs writes it (:mod:`.tfdocs`;
terraform-docs is not a dependency)."""

from __future__ import annotations

import functools
import os
import string
from collections.abc import Iterable

from ..grants.build import Grants
from ..grants.service_roles import DHMC_DOC, HYBRID_DOC
from ..tfmodule.build import AWS_DOC, ENDPOINTS_DOC, provider_alias
from ..tfmodule.document import Bare, Document
from ..tfmodule.example_values import example_inputs
from .hcl import render_value
from .tfdocs import tfdocs_block

SESSION_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-add-permissions-to-existing-profile.html"


@functools.cache
def _template() -> string.Template:
    # A stdlib template, not Jinja: Terraform JSON output then never imports jinja2. Python
    # builds every table and list below; the template only places them.
    # Through the package's loader, as pkgutil.get_data does, for start-up: see catalog.catalog().
    data = __spec__.loader.get_data(os.path.join(os.path.dirname(__file__), "templates", "README.md.tmpl"))  # type: ignore[union-attr]
    text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text's universal newlines
    return string.Template(text)


def _lines(rows: Iterable[str]) -> str:
    return "\n".join(rows)


def grant_lines(grants: Grants) -> list[str]:
    """One sentence per thing the module grants, for a reviewer."""
    lines = []
    role = grants.role
    if role.create:
        lines.append(f"Creates the role `{role.name}` (path `{role.path}`), trusted only by `{role.trusted_service}`.")
        if role.permissions_boundary:
            lines.append(f"Caps the role with the permissions boundary `{role.permissions_boundary}`.")
    else:
        lines.append(f"Attaches everything to the existing role `{role.name}`; the role itself is not managed here.")
    if grants.instance_profile is not None:
        lines.append(f"Creates the instance profile `{grants.instance_profile.name}` for that role.")
    for policy in grants.managed_policies:
        lines.append(f"Attaches the AWS managed policy `{policy.name}`: {policy.why}")
    if grants.agent_bucket_set:
        lines.append(
            f"Grants `s3:GetObject` on the AWS-owned buckets SSM Agent reads (bucket set `{grants.agent_bucket_set}`) "
            "in each Region, written out per Region as AWS requires: needed when instances reach S3 through a VPC endpoint."
        )
    lines += _custom_policy_lines(grants)
    if grants.module_variables:
        from ..tfmodule.spec_variables import module_inputs

        names = ", ".join(f"`{item.variable}`" for item in module_inputs(grants))
        lines.append(f"Names, paths and settings above are the defaults of the module inputs {names}; override them per environment.")
    for service_role in grants.service_roles:
        attached = [p.name for p in service_role.managed_policies] + [
            p.name for p in grants.custom_policies if p.key in service_role.custom_policy_keys
        ]
        lines.append(
            f"Creates the role `{service_role.name}` (path `{service_role.path}`), trusted only by "
            f"`{service_role.trusted_service}`: {service_role.why}. Attached: {', '.join(f'`{a}`' for a in attached)}."
        )
    lines += _regional_lines(grants)
    return lines


def _custom_policy_lines(grants: Grants) -> list[str]:
    if not grants.custom_policies:
        return ["Creates no custom policy: the spec grants nothing beyond the managed policies."]
    lines = []
    for purpose, what in (("s3", "the custom S3 policy"), ("session_manager", "the Session Manager policy")):
        names = [p.name for p in grants.custom_policies if p.purpose == purpose]
        if names:
            parts = f" (split to IAM's size quota: {', '.join(f'`{n}`' for n in names)})" if len(names) > 1 else ""
            lines.append(f"Creates {what} `{names[0]}`{parts} and attaches it to the instance role; every statement is in the table below.")
    return lines


def _regional_lines(grants: Grants) -> list[str]:
    """The VPC endpoints (Regions with the same endpoints on one line) and Default Host Management."""
    by_endpoints: dict[str, list[str]] = {}
    for setup in grants.regional:
        if setup.endpoints:
            services = ", ".join(f"`{e.service}` ({e.kind.lower()})" for e in setup.endpoints)
            by_endpoints.setdefault(services, []).append(setup.region)
    lines = [
        f"Creates the VPC endpoints {services} in {', '.join(regions)}, in the network the caller passes for each Region."
        for services, regions in by_endpoints.items()
    ]
    managed = [setup.region for setup in grants.regional if setup.default_host_management_role]
    if managed:
        role = next(setup.default_host_management_role for setup in grants.regional if setup.default_host_management_role)
        lines.append(
            f"Turns on Default Host Management in {', '.join(managed)}: Systems Manager manages those Regions' EC2 "
            f"instances through `{role}`."
        )
    return lines


def _diagram(grants: Grants) -> list[str]:
    lines = []
    role = f'role["{grants.role.name}<br/>(IAM role{"" if grants.role.create else ", existing"})"]'
    if grants.instance_profile is not None:
        lines.append(f'profile["{grants.instance_profile.name}<br/>(instance profile)"] --> {role}')
    else:
        lines.append(role)
    for index, managed in enumerate(grants.managed_policies):
        lines.append(f'role --> managed{index}["{managed.name}<br/>(AWS managed)"]')
    for index, policy in enumerate(grants.custom_policies):
        lines.append(f'role --> custom{index}["{policy.name}<br/>(custom, {policy.size} chars)"]')
    for service_role in grants.service_roles:
        lines.append(f'{service_role.key}["{service_role.name}<br/>(role trusted by {service_role.trusted_service})"]')
        for index, managed in enumerate(service_role.managed_policies):
            lines.append(f'{service_role.key} --> {service_role.key}_managed{index}["{managed.name}<br/>(AWS managed)"]')
        for key in service_role.custom_policy_keys:
            index = [p.key for p in grants.custom_policies].index(key)
            lines.append(f"{service_role.key} --> custom{index}")
    return lines


def _permission_rows(grants: Grants) -> list[dict[str, str]]:
    return [
        {
            "policy": policy.name,
            "sid": statement.sid,
            "region": statement.region or "all",
            "actions": "<br>".join(f"`{a}`" for a in statement.actions),
            "resources": "<br>".join(f"`{r}`" for r in statement.resources),
            "why": statement.why,
        }
        for policy in grants.custom_policies
        for statement in policy.statements
    ]


def _regional_rows(grants: Grants) -> list[dict[str, str]]:
    rows = []
    for setup in grants.regional:
        if setup.is_empty:
            continue
        parts = []
        if setup.default_host_management_role:
            parts.append(f"service setting `default-ec2-instance-management-role` = `{setup.default_host_management_role}`")
        parts += [f"{e.kind.lower()} endpoint `{e.service_name}`" for e in setup.endpoints]
        rows.append({"region": setup.region, "alias": provider_alias(setup.region), "resources": "<br>".join(parts)})
    return rows


def _usage(grants: Grants, usage_source: str, required: list[str]) -> str:
    aliases = [provider_alias(s.region) for s in grants.regional if not s.is_empty]
    lines = []
    if aliases:
        lines.append('provider "aws" {')
        lines.append(f"  region = {render_value(grants.regions[0], 1)}")
        lines.append("}")
        for setup in grants.regional:
            if setup.is_empty:
                continue
            lines.append("")
            lines.append('provider "aws" {')
            lines.append(f"  alias  = {render_value(provider_alias(setup.region), 1)}")
            lines.append(f"  region = {render_value(setup.region, 1)}")
            lines.append("}")
        lines.append("")
    lines.append('module "ssm_instance_profile" {')
    lines.append(f"  source = {render_value(usage_source, 1)}")
    network_regions = [s.region for s in grants.regional if s.endpoints]
    for name, value in example_inputs(required, network_regions).items():
        lines.append("")
        lines.append(f"  {name} = {render_value(value, 1)}")
    if aliases:
        providers = {Bare(address): Bare(address) for address in ["aws", *(f"aws.{alias}" for alias in aliases)]}
        lines.append("")
        lines.append(f"  providers = {render_value(providers, 1)}")
    lines.append("}")
    if grants.instance_profile is not None:
        lines += [
            "",
            "# Launch EC2 instances with the profile:",
            '#   resource "aws_instance" "example" {',
            "#     iam_instance_profile = module.ssm_instance_profile.instance_profile_name",
            "#     # ...",
            "#   }",
            'output "instance_profile_name" {',
            "  value = module.ssm_instance_profile.instance_profile_name",
            "}",
        ]
    return "\n".join(lines)


def _notes(grants: Grants) -> list[str]:
    notes = []
    if any(s.default_host_management_role for s in grants.regional):
        notes.append(
            f"**Default Host Management** ([AWS docs]({DHMC_DOC})): it manages only instances that use IMDSv2 and "
            "run SSM Agent 3.2.582.0 or later; an instance profile that allows `ssm:UpdateInstanceInformation` "
            "(such as this module's, through `AmazonSSMManagedInstanceCore`) takes precedence over the "
            "Default Host Management role on instances that have one."
        )
    if any(r.key == "hybrid" for r in grants.service_roles):
        notes.append(
            f"**Hybrid activations** ([AWS docs]({HYBRID_DOC})): create activations with this role's name; its trust "
            "policy accepts Systems Manager only for your account (`aws:SourceAccount`) and for the spec's Regions "
            "(`aws:SourceArn`)."
        )
    if grants.session_manager:
        notes.append(
            f"**Session Manager** ([AWS docs]({SESSION_DOC})): the channel and instance-information actions come "
            "from `AmazonSSMManagedInstanceCore` when it is attached; the custom policy adds only the encryption "
            "and logging grants, each on its exact resource. Actions AWS defines without a resource type "
            "(`ssmmessages:*Channel`, `logs:DescribeLogGroups`) can only be granted on `*`."
        )
    sids = {s.sid for p in grants.custom_policies for s in p.statements}
    if "SessionManagerS3LogsEncryption" in sids and "SessionManagerS3LogsKms" not in sids:
        notes.append(
            "**Session log bucket encryption**: without `s3_log_kms_key_arn` no KMS action is granted, which is "
            "right for SSE-S3 (every bucket's default since January 2023). If the bucket uses SSE-KMS, set "
            "`s3_log_kms_key_arn` to its key: S3 denies uploads without `kms:GenerateDataKey` and `kms:Decrypt` on it."
        )
    if any(s.endpoints for s in grants.regional):
        notes.append(
            f"**VPC endpoints** ([AWS docs]({ENDPOINTS_DOC})): interface endpoints are created with private DNS; "
            "their security groups must allow HTTPS (443) from the instances."
        )
    return notes


def _permissions_section(grants: Grants) -> str:
    """The "Permissions" table: every statement of the custom policies; empty without any."""
    if not grants.custom_policies:
        return ""
    rows = [
        f"| `{r['policy']}` | `{r['sid']}` | {r['region']} | {r['actions']} | {r['resources']} | {r['why']} |"
        for r in _permission_rows(grants)
    ]
    return _lines(
        [
            "",
            "## Permissions",
            "",
            "Every statement of the custom policies, as the plan will create them.",
            "",
            "| Policy | Sid | Region | Actions | Resources | Why |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )


def _per_region_section(grants: Grants) -> str:
    """The "Per Region" table: what each Region's provider creates; empty without regional resources."""
    regional = _regional_rows(grants)
    if not regional:
        return ""
    return _lines(
        [
            "",
            "## Per Region",
            "",
            "Created once per Region, each with the provider configuration of its Region.",
            "",
            "| Region | Provider | Resources |",
            "| --- | --- | --- |",
            *(f"| {r['region']} | `aws.{r['alias']}` | {r['resources']} |" for r in regional),
            "",
        ]
    )


def render_readme(grants: Grants, document: Document, header: str, usage_source: str, module_version: str = "") -> str:
    """README.md text for the module built from ``grants``; ``module_version`` is stamped by a release."""
    terraform = document.of_kind("terraform")[0]
    providers = terraform.body["required_providers"][0].body
    aliases = [a.text for a in providers["aws"].get("configuration_aliases", [])]
    required = [b.labels[0] for b in document.of_kind("variable") if "default" not in b.body]
    permissions = _permissions_section(grants)
    per_region = _per_region_section(grants)
    version_line = (
        f"\nModule version **{module_version}**: [CHANGELOG.md](CHANGELOG.md) lists what changed in each release.\n"
        if module_version
        else ""
    )
    return _template().substitute(
        header=header,
        title=grants.instance_profile.name if grants.instance_profile else grants.role.name,
        version_line=version_line,
        instance_profile_doc=AWS_DOC,
        regions=", ".join(grants.regions),
        partition=grants.partition.id,
        diagram=_lines(f"  {line}" for line in _diagram(grants)),
        grant_lines=_lines(f"- {line}" for line in grant_lines(grants)),
        permissions=permissions,
        per_region=per_region,
        usage=_usage(grants, usage_source, required),
        alias_sentence=", plus one\naliased configuration per Region, passed in `providers`" if aliases else "",
        notes="".join(f"\n{note}\n" for note in _notes(grants)),
        terraform_version=terraform.body["required_version"],
        tfdocs=tfdocs_block(document),
    )
