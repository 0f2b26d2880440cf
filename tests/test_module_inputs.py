"""Per-environment modules (`[module] variables`), the README's terraform-docs block and usage snippet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import EXAMPLES, run
from ssm_profile import generate
from ssm_profile.render.expression import expression_text
from ssm_profile.render.tfdocs import BEGIN, END
from ssm_profile.spec.load import MODULE_VARIABLE_FIELDS
from ssm_profile.tfmodule.document import Bare, Template, TypeConstraint, var
from ssm_profile.tfmodule.example_values import OFFLINE_PROVIDER

EVERY_FIELD = {
    "version": 1,
    # Enough Regions that the S3 policy splits in two: the second part's name follows the variable too.
    "regions": ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-northeast-1",
                "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1", "eu-north-1", "ap-south-1"],
    "role": {"name": "SSMRole", "path": "/ssm/", "permissions_boundary": "arn:aws:iam::111122223333:policy/Boundary"},
    "s3": {"policy_name": "SSMS3", "vpc_endpoint": True, "buckets": [{"name": "org-ssm-output"}]},
    "default_host_management": {"enabled": True, "role_name": "SSMDefaultHost"},
    "hybrid": {"enabled": True, "role_name": "SSMHybrid"},
    "session_manager": {"enabled": True, "policy_name": "SSMSession", "cloudwatch_log_group": "ssm-sessions"},
    "module": {"variables": list(MODULE_VARIABLE_FIELDS)},
}

#: Override values for every variable, as a --var-file would pass them for a "staging" environment.
STAGING = {
    "role_name": "SSMRole-staging",
    "instance_profile_name": "SSMProfile-staging",
    "role_path": "/staging/",
    "role_description": "staging role",
    "role_permissions_boundary": "arn:aws:iam::111122223333:policy/StagingBoundary",
    "role_max_session_duration": 7200,
    "s3_policy_name": "SSMS3-staging",
    "session_manager_policy_name": "SSMSession-staging",
    "default_host_management_role_name": "SSMDefaultHost-staging",
    "hybrid_role_name": "SSMHybrid-staging",
}


def _write_spec(folder: Path, data: dict) -> Path:
    path = folder / "spec.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- [module] variables: the document -----------------------------------------------------------


def test_every_listed_field_is_a_validated_variable_with_the_spec_value_as_default() -> None:
    module = generate(EVERY_FIELD)
    variables = {b.labels[0]: b for b in module.document.of_kind("variable")}
    assert set(STAGING) <= set(variables)
    assert variables["role_name"].body["default"] == "SSMRole"
    assert variables["role_max_session_duration"].body["type"] == TypeConstraint(Bare("number"))
    assert all(variables[name].body["validation"] and variables[name].body["description"] for name in STAGING)
    resources = {b.address: b for b in module.document.of_kind("resource")}
    assert resources["aws_iam_role.this"].body["name"] == var("role_name")
    assert resources["aws_iam_role.this"].body["permissions_boundary"] == var("role_permissions_boundary")
    assert resources["aws_iam_instance_profile.this"].body["name"] == var("instance_profile_name")
    assert resources["aws_iam_policy.s3"].body["name"] == var("s3_policy_name")
    assert resources["aws_iam_policy.s3_2"].body["name"] == Template((var("s3_policy_name"), "-2"))
    assert resources["aws_iam_role.hybrid"].body["name"] == var("hybrid_role_name")
    assert all(resources[a].body["path"] == var("role_path") for a in resources if a.startswith("aws_iam_policy."))
    # The split name must fit IAM's 128 characters with its suffix: the check leaves room for "-2".
    assert "<= 126" in expression_text(variables["s3_policy_name"].body["validation"][0].body["condition"])
    # No baked name is left in the configuration.
    main = module.files["main.tf"]
    for name in ("SSMRole", "SSMS3", "SSMSession", "SSMDefaultHost", "SSMHybrid", "/ssm/", "Boundary"):
        assert f'"{name}' not in main


def test_an_existing_role_is_named_by_the_variable_everywhere() -> None:
    module = generate({"version": 1, "regions": ["us-east-2"], "role": {"name": "Existing", "create": False}, "module": {"variables": ["role.name"]}})
    attachments = [b for b in module.document.of_kind("resource") if "role" in b.body]
    assert attachments and all(b.body["role"] == var("role_name") for b in attachments)
    # The profile's default name is the role's: it follows the role's variable.
    assert module.files["main.tf"].count("var.role_name") == len(attachments) + 1
    assert '"Existing"' not in module.files["main.tf"] and '"Existing"' not in module.files["outputs.tf"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (["role.nmae"], "module.variables[0]: 'role.nmae' cannot be a module variable (did you mean role.name?); supported: role.name, "),
        (["regions"], "module.variables[0]: 'regions' cannot be a module variable; supported: "),
        (["role.name", "role.name"], "module.variables[1]: 'role.name' is listed twice"),
        (["hybrid.role_name"], "module.variables[0]: 'hybrid.role_name' has nothing to name: hybrid.enabled is false"),
        (["s3.policy_name"], "module.variables[0]: 's3.policy_name' has nothing to name: the spec creates no S3 policy"),
    ],
)
def test_unsupported_fields_are_exit_2_with_the_supported_list(tmp_path: Path, variables: list[str], message: str) -> None:
    spec = _write_spec(tmp_path, {"version": 1, "regions": ["us-east-2"], "module": {"variables": variables}})
    code, _out, err = run("generate", str(spec), "-o", str(tmp_path / "out"))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


# -- [module] variables: real Terraform --------------------------------------------------------


@pytest.mark.terraform
@pytest.mark.parametrize("format_", ["hcl", "json"])
def test_a_var_file_override_renames_what_the_plan_creates(tmp_path: Path, format_: str) -> None:
    spec = _write_spec(tmp_path, EVERY_FIELD)
    out = tmp_path / "module"
    assert run("generate", str(spec), "-o", str(out), "--format", format_)[0] == 0
    (tmp_path / "staging.json").write_text(json.dumps(STAGING), encoding="utf-8")
    code, _stdout, err = run("plan", str(out), "--offline", "--var-file", str(tmp_path / "staging.json"), "--json", str(tmp_path / "plan.json"))
    assert code == 0, err
    planned = {
        c["address"].removeprefix("module.ssm_profile."): c["change"]["after"]
        for c in json.loads((tmp_path / "plan.json").read_text())["resource_changes"]
    }
    role = planned["aws_iam_role.this"]
    assert (role["name"], role["path"], role["description"]) == ("SSMRole-staging", "/staging/", "staging role")
    assert (role["permissions_boundary"], role["max_session_duration"]) == (STAGING["role_permissions_boundary"], 7200)
    assert (planned["aws_iam_instance_profile.this"]["name"], planned["aws_iam_instance_profile.this"]["role"]) == (
        "SSMProfile-staging",
        "SSMRole-staging",
    )
    policies = {address: after["name"] for address, after in planned.items() if address.startswith("aws_iam_policy.")}
    assert policies == {
        "aws_iam_policy.s3": "SSMS3-staging",
        "aws_iam_policy.s3_2": "SSMS3-staging-2",
        "aws_iam_policy.session_manager": "SSMSession-staging",
    }
    assert all(planned[a]["path"] == "/staging/" for a in policies)
    assert planned["aws_iam_role.hybrid"]["name"] == "SSMHybrid-staging"
    assert planned["aws_iam_role.default_host_management"]["name"] == "SSMDefaultHost-staging"
    settings = [after for address, after in planned.items() if address.startswith("aws_ssm_service_setting.")]
    assert settings and all(s["setting_value"] == "service-role/SSMDefaultHost-staging" for s in settings)
    # The grants themselves do not depend on names: the planned document is the spec's.
    expected = generate(EVERY_FIELD).grants.custom_policies[0].document()
    def listed(statement: dict) -> dict:  # the data source writes a one-item list as a string
        return {k: sorted(v) if isinstance(v, list) else ([v] if k in ("Action", "Resource") else v) for k, v in statement.items()}

    planned_statements = json.loads(planned["aws_iam_policy.s3"]["policy"])["Statement"]
    assert [listed(s) for s in planned_statements] == [listed(s) for s in expected["Statement"]]


@pytest.mark.terraform
def test_the_variables_validation_rejects_what_the_spec_would_reject(tmp_path: Path) -> None:
    spec = _write_spec(tmp_path, EVERY_FIELD)
    out = tmp_path / "module"
    assert run("generate", str(spec), "-o", str(out))[0] == 0
    bad = {"role_name": "has space", "role_path": "no-slashes", "role_permissions_boundary": "arn:aws:iam::1:policy/x", "s3_policy_name": "x" * 127}
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    code, _, err = run("plan", str(out), "--offline", "--var-file", str(tmp_path / "bad.json"))
    assert code == 3 and "Invalid value for variable" in err
    from ssm_profile.errors import TerraformError
    from ssm_profile.terraform.module_runs import plan_modules

    (result,) = plan_modules([out], offline=True, inputs=bad)
    assert isinstance(result.error, TerraformError)
    output = " ".join(result.error.output.split())  # Terraform wraps long messages
    for name in bad:  # each variable's own rule, each named in its message
        assert f"{name} must " in output, output


# -- terraform-docs owns its block ----------------------------------------------------------------

#: What terraform-docs writes for a module (same shape as its golden output
#: format/testdata/markdown/table-WithAnchor.golden, with default settings), with other content.
TFDOCS_REWRITE = """## Requirements

| Name | Version |
| ---- | ------- |
| <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) | >= 1.5.0 |
| <a name="requirement_aws"></a> [aws](#requirement\\_aws) | >= 5.0 |

## Providers

| Name | Version |
| ---- | ------- |
| <a name="provider_aws"></a> [aws](#provider\\_aws) | 5.100.0 |

## Modules

No modules.

## Resources

| Name | Type |
| ---- | ---- |
| [aws_iam_role.this](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_role) | resource |

## Inputs

No inputs.

## Outputs

No outputs."""


def _tfdocs_block(readme: str) -> str:
    return readme[readme.index(BEGIN) : readme.index(END) + len(END)]


def test_the_block_is_terraform_docs_default_markdown_table() -> None:
    module = generate(EVERY_FIELD)
    block = _tfdocs_block(module.files["README.md"])
    headings = re.findall(r"^## (.+)$", block, re.M)
    assert headings == ["Requirements", "Providers", "Modules", "Resources", "Inputs", "Outputs"]
    assert "## Modules\n\nNo modules.\n" in block
    assert "| Name | Description | Type | Default | Required |\n| ---- | ----------- | ---- | ------- | :------: |" in block
    inputs = re.findall(r'^\| <a name="input_([^"]+)"></a> \[([^\]]+)\]\(#([^)]+)\) \|', block, re.M)
    names = [name for name, _, _ in inputs]
    assert names == sorted(names) and "role_name" in names
    assert all(text == name.replace("_", "\\_") and target == "input\\_" + name.replace("_", "\\_") for name, text, target in inputs)
    assert '| `string` | `"SSMRole"` | no |' in block and "| `string` | n/a | yes |" in block  # account_id: required
    assert '| <a name="provider_aws.us_east_1"></a> [aws.us\\_east\\_1](#provider\\_aws.us\\_east\\_1) | >= 5.0 |' in block
    assert (
        "| [aws_iam_role.this](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_role) | resource |"
        in block
    )
    assert "| [aws_partition.current](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/partition) | data source |" in block
    # Managed resources first, then data sources, each sorted by address.
    rows = re.findall(r"^\| \[([^\]]+)\]\([^)]+\) \| (resource|data source) \|$", block, re.M)
    assert rows == sorted(rows, key=lambda r: (r[1] != "resource", r[0]))


@pytest.mark.parametrize("rewrite", [TFDOCS_REWRITE, "## Inputs\n\nNo inputs."])
def test_a_terraform_docs_rewrite_of_the_block_is_harmless(tmp_path: Path, rewrite: str) -> None:
    spec = _write_spec(tmp_path, {"version": 1, "regions": ["us-east-2"], "module": {"variables": ["role.name"]}})
    out = tmp_path / "modules" / "ssm"
    assert run("generate", str(spec), "-o", str(out))[0] == 0
    readme = out / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace(_tfdocs_block(text), f"{BEGIN}\n{rewrite}\n{END}"), encoding="utf-8")
    assert run("generate", str(spec), "-o", str(out), "--check") == (0, f"{out}: up to date\n", "")
    code, stdout, err = run("drift", str(tmp_path))
    assert code == 0 and "1 module up to date" in stdout, err
    assert run("generate", str(spec), "-o", str(out))[0] == 0  # no --force needed
    # Outside the block, an edit is still an edit.
    readme.write_text(readme.read_text(encoding="utf-8").replace("## Usage", "## Use it"), encoding="utf-8")
    code, _, err = run("generate", str(spec), "-o", str(out))
    assert code == 2 and "README.md edited by hand" in err
    assert run("generate", str(spec), "-o", str(out), "--check")[0] == 1


# -- the usage snippet ------------------------------------------------------------------------------


def _usage(readme: str) -> str:
    return readme.split("## Usage\n\n```hcl\n", 1)[1].split("\n```", 1)[0]


def test_the_usage_source_is_the_module_folder_seen_from_the_spec(tmp_path: Path) -> None:
    spec = _write_spec(tmp_path, {"version": 1, "regions": ["us-east-2"]})
    for out, source in ((tmp_path / "infra" / "iam", "./infra/iam"), (tmp_path.parent / f"{tmp_path.name}-sibling", f"../{tmp_path.name}-sibling")):
        assert run("generate", str(spec), "-o", str(out))[0] == 0
        assert f'  source = "{source}"\n' in _usage((out / "README.md").read_text(encoding="utf-8"))
    assert '"<path or registry address of this module>"' in generate(spec).files["README.md"]


@pytest.mark.terraform
def test_the_usage_snippet_plans_when_pasted_beside_the_spec(tmp_path: Path) -> None:
    from ssm_profile.terraform.runner import default_runner

    spec = EXAMPLES["multi-region-full"]
    (tmp_path / "spec.toml").write_text(spec.read_text(encoding="utf-8"), encoding="utf-8")
    assert run("generate", str(tmp_path / "spec.toml"), "-o", str(tmp_path / "modules" / "ssm-profile"))[0] == 0
    usage = _usage((tmp_path / "modules" / "ssm-profile" / "README.md").read_text(encoding="utf-8"))
    (tmp_path / "main.tf").write_text(usage + "\n", encoding="utf-8")
    # Test-only: Terraform merges override files into the pasted provider blocks, so the plan
    # makes no AWS call; the snippet itself is planned as written.
    aliases = re.findall(r'alias\s+= "([^"]+)"', usage)
    overrides = "".join(
        'provider "aws" {\n'
        + (f'  alias = "{alias}"\n' if alias else "")
        + "".join(f"  {key} = {json.dumps(value)}\n" for key, value in OFFLINE_PROVIDER.items())
        + "}\n"
        for alias in ["", *aliases]
    )
    (tmp_path / "offline_override.tf").write_text(overrides, encoding="utf-8")
    runner = default_runner()
    runner.init(tmp_path)
    runner.plan(tmp_path, "plan.bin")
    plan = runner.show(tmp_path, "plan.bin")
    addresses = {c["address"] for c in plan["resource_changes"]}
    assert "module.ssm_instance_profile.aws_iam_instance_profile.this" in addresses
    assert any(a.startswith("module.ssm_instance_profile.aws_vpc_endpoint.") for a in addresses)


# -- vpc_endpoint_network --------------------------------------------------------------------------


def test_route_table_ids_are_declared_only_where_required() -> None:
    def network_type(services: list[str]) -> str:
        spec = {"version": 1, "regions": ["us-east-2"], "s3": {"vpc_endpoint": True}, "vpc_endpoints": {"enabled": True, "services": services}}
        variables = {b.labels[0]: b for b in generate(spec).document.of_kind("variable")}
        return expression_text(variables["vpc_endpoint_network"].body["type"])

    assert "route_table_ids = list(string)" in network_type(["ssm", "s3"])  # required, not optional(...)
    assert "route_table_ids" not in network_type(["ssm"])


@pytest.mark.terraform
def test_the_network_input_names_the_missing_region_and_rejects_unknown_keys() -> None:
    from ssm_profile.errors import TerraformError
    from ssm_profile.terraform.module_runs import plan_modules
    from ssm_profile.tfmodule.example_values import EXAMPLE_NETWORK

    module = Path(__file__).resolve().parent.parent / "modules" / "multi-region-full"
    # us_east_1 for us-east-1: the typo Terraform would otherwise ignore.
    network = {key: EXAMPLE_NETWORK for key in ("us_east_1", "eu-central-1", "ap-southeast-1")}
    (result,) = plan_modules([module], offline=True, inputs={"vpc_endpoint_network": network})
    assert isinstance(result.error, TerraformError)
    output = " ".join(result.error.output.split())
    assert "vpc_endpoint_network has no entry for Region us-east-1;" in output
    assert "vpc_endpoint_network keys must be Region codes of this module" in output
    assert "no entry for Region eu-central-1" not in output


def test_a_manifest_that_hashed_the_whole_readme_still_reads(tmp_path: Path) -> None:
    import hashlib

    spec = _write_spec(tmp_path, {"version": 1, "regions": ["us-east-2"]})
    out = tmp_path / "out"
    assert run("generate", str(spec), "-o", str(out))[0] == 0
    manifest = json.loads((out / ".ssm-profile.json").read_text(encoding="utf-8"))
    # Before the terraform-docs block was left out, the manifest hashed README.md whole.
    manifest["files"]["README.md"] = hashlib.sha256((out / "README.md").read_bytes()).hexdigest()
    (out / ".ssm-profile.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert run("generate", str(spec), "-o", str(out))[0] == 0


def test_a_partition_with_a_hyphen_is_escaped_as_hcl_allows() -> None:
    # re.escape writes "aws\-cn"; in an HCL string that backslash must itself be escaped
    # ("\-" is not an HCL escape sequence and terraform fmt rejects the file).
    spec = {
        "version": 1,
        "partition": "aws-cn",
        "regions": ["cn-north-1"],
        "role": {"name": "R", "permissions_boundary": "arn:aws-cn:iam::111122223333:policy/B"},
        "module": {"variables": ["role.permissions_boundary"]},
    }
    variables = generate(spec).files["variables.tf"]
    assert 'can(regex("^arn:aws\\\\-cn:iam::(aws|[0-9]{12}):policy/[!-~]+$", var.role_permissions_boundary))' in variables
