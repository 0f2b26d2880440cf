"""The module's README.md: what it grants and why, usage, and generated inputs/outputs tables."""

from __future__ import annotations

import functools
import json
from typing import Any

from ..document import Document
from ..grants import Grants
from ..module import AWS_DOC


@functools.cache
def _template() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ssm_profile.render", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    environment.filters["code"] = lambda text: f"`{text}`"
    return environment.get_template("README.md.j2")


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
    if not grants.custom_policies:
        lines.append("Creates no custom S3 policy: the spec grants no S3 access beyond the managed policies.")
    return lines


def render_readme(grants: Grants, document: Document, header: str, usage_source: str) -> str:
    """README.md text for the module built from ``grants``."""
    inputs = [
        {
            "name": block.labels[0],
            "description": block.body["description"],
            "type": block.body["type"].text,
            "default": json.dumps(block.body.get("default")),
        }
        for block in document.of_kind("variable")
    ]
    outputs = [{"name": b.labels[0], "description": b.body["description"]} for b in document.of_kind("output")]
    terraform = document.of_kind("terraform")[0]
    providers = terraform.body["required_providers"][0].body
    requirements = [("terraform", terraform.body["required_version"])] + [
        (name, spec["version"]) for name, spec in providers.items()
    ]
    return _template().render(
        header=header,
        title=grants.instance_profile.name if grants.instance_profile else grants.role.name,
        aws_doc=AWS_DOC,
        role=grants.role,
        profile=grants.instance_profile,
        regions=grants.regions,
        partition=grants.partition.id,
        grant_lines=grant_lines(grants),
        policies=grants.custom_policies,
        usage_source=usage_source,
        requirements=requirements,
        inputs=inputs,
        outputs=outputs,
    )
