"""``imports`` and ``spec-from`` without Terraform: the import IDs as the provider documents
them, import addresses tied to the generated module's resources, the spec checked against an
account's authorization details, and bad input."""

from __future__ import annotations

import json
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, run
from ssm_profile.adopt import module_imports, read_account_details
from ssm_profile.adopt.imports import ADOPTABLE_TYPES
from ssm_profile.pipeline import generate
from ssm_profile.spec.load import spec_from_data

ACCOUNT = "111122223333"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def all_endpoint_ids(grants: Any) -> dict[str, dict[str, str]]:
    return {s.region: {e.service: f"vpce-0{i:016x}" for i, e in enumerate(s.endpoints)} for s in grants.regional if s.endpoints}


# -- addresses and IDs ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_import_address_is_a_resource_of_the_module_and_every_resource_is_imported(name: str) -> None:
    module = generate(EXAMPLES[name])
    resources = {b.address for b in module.document.of_kind("resource")}
    assert {address.split(".")[0] for address in resources} <= set(ADOPTABLE_TYPES)
    imports = module_imports(module.grants, ACCOUNT, all_endpoint_ids(module.grants))
    addresses = [i.address for i in imports]
    assert len(addresses) == len(set(addresses))
    assert set(addresses) == resources


def test_import_ids_are_the_ones_the_provider_documents() -> None:
    # Written by hand from each resource's Import section (hashicorp/aws 5.x docs, cited in adopt/imports.py).
    module = generate(EXAMPLES["multi-region-full"])
    ids = {i.address: i.id for i in module_imports(module.grants, ACCOUNT, {"eu-central-1": {"ssm": "vpce-0123456789abcdef0"}})}
    assert ids["aws_iam_role.this"] == "SSMInstanceProfileFull"
    assert ids["aws_iam_instance_profile.this"] == "SSMInstanceProfileFull"
    assert ids["aws_iam_role_policy_attachment.instance_core"] == "SSMInstanceProfileFull/arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert ids["aws_iam_policy.s3"] == "arn:aws:iam::111122223333:policy/SSMInstanceProfileFullS3Policy"
    assert ids["aws_iam_role_policy_attachment.hybrid_s3"] == "SSMServiceRoleFull/arn:aws:iam::111122223333:policy/SSMInstanceProfileFullS3Policy"
    assert ids["aws_ssm_service_setting.default_host_management_eu_central_1"] == (
        "arn:aws:ssm:eu-central-1:111122223333:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
    )
    assert ids["aws_vpc_endpoint.ssm_eu_central_1"] == "vpce-0123456789abcdef0"
    assert "aws_vpc_endpoint.ssmmessages_eu_central_1" not in ids  # no ID given: the plan creates it


def test_a_policy_arn_carries_the_path_and_the_partition() -> None:
    ids = {i.address: i.id for i in module_imports(generate(EXAMPLES["all-options"]).grants, ACCOUNT)}
    assert ids["aws_iam_policy.s3"] == "arn:aws:iam::111122223333:policy/ssm/SSMAllOptionsS3Policy"
    china = {i.address: i.id for i in module_imports(generate(EXAMPLES["china"]).grants, ACCOUNT)}
    assert all(":aws-cn:" in v for k, v in china.items() if k.startswith("aws_iam_policy."))


def test_imports_writes_root_blocks_for_a_module_address(tmp_path: Path) -> None:
    module = tmp_path / "module"
    assert run("generate", str(EXAMPLES["multi-region-full"]), "-o", str(module))[0] == 0
    code, out, err = run("imports", str(module), "--account-id", ACCOUNT, "--module-address", 'module.ssm["prod"]')
    assert code == 0, err
    assert 'to = module.ssm["prod"].aws_iam_role.this\n  id = "SSMInstanceProfileFull"' in out
    code, out, err = run("imports", str(module), "--account-id", ACCOUNT, "--module-address", 'module.ssm["prod"]', "--removed")
    assert code == 0, err
    assert "import {" not in out  # removed blocks are for a root that imported long ago
    # the removed blocks keep Default Host Management on when the module stops managing it
    # (its `from` takes no instance key: it covers every instance of the module)
    assert 'removed {\n  from = module.ssm.aws_ssm_service_setting.default_host_management_us_east_1\n\n  lifecycle {\n    destroy = false\n  }\n}' in out
    # The setting in three Regions, the role, its managed policy's attachment, and the spec's two
    # custom policies (S3, Session Manager) attached to it since issue 24 (AWS: the custom S3 policy
    # can be attached to the Default Host Management role).
    assert out.count("removed {") == 3 + 1 + 1 + 2
    assert "from = module.ssm.aws_iam_role_policy_attachment.default_host_management_s3\n" in out


# -- the account's details ------------------------------------------------------------------


def role_detail(name: str = "SSMInstanceProfile", path: str = "/", attached: tuple[str, ...] = ("AmazonSSMManagedInstanceCore",), **extra: Any) -> dict[str, Any]:
    return {
        "RoleName": name,
        "Path": path,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "AssumeRolePolicyDocument": EC2_TRUST,
        "AttachedManagedPolicies": [{"PolicyName": p.rsplit("/", 1)[-1], "PolicyArn": p if p.startswith("arn:") else f"arn:aws:iam::aws:policy/{p}"} for p in attached],
        "InstanceProfileList": [{"InstanceProfileName": name, "Path": path, "Roles": [{"RoleName": name, "Description": "Allows EC2 instances to call AWS services on your behalf.", "MaxSessionDuration": 3600}]}],
        "RolePolicyList": [],
        "Tags": [],
        **extra,
    }


def details_file(tmp_path: Path, roles: list[dict[str, Any]], policies: list[dict[str, Any]] = ()) -> Path:
    path = tmp_path / "details.json"
    path.write_text(json.dumps({"RoleDetailList": roles, "Policies": list(policies), "UserDetailList": [], "GroupDetailList": []}), encoding="utf-8")
    return path


def test_url_encoded_documents_of_the_raw_api_are_read_as_the_cli_s_decoded_ones(tmp_path: Path) -> None:
    encoded = role_detail(AssumeRolePolicyDocument=urllib.parse.quote(json.dumps(EC2_TRUST)))
    details = read_account_details(details_file(tmp_path, [encoded]))
    assert details.roles[0].trusted_services() == ["ec2.amazonaws.com"]
    assert (details.account, details.partition) == (ACCOUNT, "aws")
    assert details.roles[0].description == "Allows EC2 instances to call AWS services on your behalf."


def test_imports_from_a_matching_account_imports_what_exists_and_notes_the_rest(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('version = 1\nregions = ["us-east-2"]\n[role]\ndescription = "Allows EC2 instances to call AWS services on your behalf."\n'
                    "[managed_policies]\ncloudwatch_agent = true\n", encoding="utf-8")
    module = tmp_path / "module"
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    details = details_file(tmp_path, [role_detail(attached=("AmazonSSMManagedInstanceCore", "AmazonS3ReadOnlyAccess"))])
    code, out, err = run("imports", str(module), "--from", str(details))
    assert code == 0, err
    assert out.count("import {") == 3  # role, profile, Core: CloudWatchAgentServerPolicy is not attached yet
    assert "ssm-profile: managed_policies.cloudwatch_agent: CloudWatchAgentServerPolicy is not attached to role SSMInstanceProfile; the plan attaches it" in err
    assert "ssm-profile: managed_policies: role SSMInstanceProfile also has AmazonS3ReadOnlyAccess attached, which the spec does not attach (left as it is, unmanaged)" in err


def test_a_differing_policy_description_would_replace_the_policy(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('version = 1\nregions = ["us-east-2"]\n[[s3.buckets]]\nname = "team-out"\n', encoding="utf-8")
    module = tmp_path / "module"
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    arn = f"arn:aws:iam::{ACCOUNT}:policy/SSMInstanceProfileS3Policy"
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "OwnBucketsReadWrite", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::team-out/*"}]}
    policy = {"PolicyName": "SSMInstanceProfileS3Policy", "Arn": arn, "Path": "/", "Description": "", "PolicyVersionList": [{"Document": document, "IsDefaultVersion": True}]}
    details = details_file(tmp_path, [role_detail(attached=("AmazonSSMManagedInstanceCore", arn))], [policy])
    code, out, err = run("imports", str(module), "--from", str(details))
    assert code == 1 and out == ""
    assert "s3.policy_description: 'S3 access for AWS Systems Manager (SSM Agent), generated by ssm-profile.', but policy SSMInstanceProfileS3Policy has description '' (the plan would replace it)" in err
    # the fix the line names: the policy's description in the spec
    spec.write_text('version = 1\nregions = ["us-east-2"]\n[s3]\npolicy_description = ""\n[[s3.buckets]]\nname = "team-out"\n', encoding="utf-8")
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    code, out, err = run("imports", str(module), "--from", str(details))
    assert code == 0, err
    assert f'id = "{arn}"' in out


# -- spec-from ------------------------------------------------------------------------------


def test_spec_from_maps_the_role_and_comments_what_it_cannot(tmp_path: Path) -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/Boundary"
    role = role_detail(
        "AppRole", "/apps/", ("AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy", "AmazonS3FullAccess"),
        Tags=[{"Key": "Team", "Value": "platform"}], PermissionsBoundary={"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary},
        RolePolicyList=[{"PolicyName": "inline-extra", "PolicyDocument": {}}],
    )
    code, out, err = run("spec-from", str(details_file(tmp_path, [role])), "--role", "AppRole")
    assert code == 0, err
    spec = tomllib.loads(out)
    assert spec["role"] == {"name": "AppRole", "path": "/apps/", "description": "Allows EC2 instances to call AWS services on your behalf.",
                            "permissions_boundary": boundary, "tags": {"Team": "platform"}}
    assert spec["managed_policies"] == {"instance_core": True, "directory_service": False, "cloudwatch_agent": True}
    assert "# not mapped: AmazonS3FullAccess (arn:aws:iam::aws:policy/AmazonS3FullAccess) is attached" in out
    assert "# not mapped: the inline policy 'inline-extra'" in out
    assert spec_from_data(spec).spec.regions == ["us-east-1"]  # with the comment asking for the Regions
    assert "# IAM is global" in out


# -- bad input: one line, exit 2 ------------------------------------------------------------


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    module = tmp_path / "module"
    assert run("generate", str(EXAMPLES["vpc-endpoint-multi-region"]), "-o", str(module))[0] == 0
    details = details_file(tmp_path, [role_detail()])
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"RoleDetailList": [', encoding="utf-8")
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps({"ap-south-2": {"ssm": "vpce-0123456789abcdef0"}}), encoding="utf-8")
    cases = {
        ("spec-from", str(details), "--role", "NoSuchRole"): "--role: 'NoSuchRole' is not a role in",
        ("spec-from", str(malformed), "--role", "SSMInstanceProfile"): "malformed.json: is not JSON",
        ("imports", str(module), "--account-id", ACCOUNT, "--vpc-endpoint-ids", str(ids)): "ids.json: ap-south-2: is not a Region where the module creates VPC endpoints",
        ("imports", str(module), "--account-id", "12345"): "--account-id: '12345' is not an AWS account ID (12 digits)",
        ("imports", str(module)): "--account-id: is required",
        ("imports", str(module), "--account-id", ACCOUNT, "--module-address", "ssm_profile"): "--module-address: 'ssm_profile' is not a module address",
        ("imports", str(module), "--account-id", "444455556666", "--from", str(details)): "--account-id: 444455556666 is not the account of",
        ("imports", str(tmp_path), "--account-id", ACCOUNT): "not a module generated by ssm-profile",
    }
    for args, message in cases.items():
        code, out, err = run(*args)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and message in err, (args, err)
        assert out == ""


# -- fleets ---------------------------------------------------------------------------------


def test_a_fleet_that_adopts_writes_imports_in_each_root_with_the_account_s_id(tmp_path: Path) -> None:
    fleet_dir = EXAMPLES["basic"].parent / "fleet"
    for name in ("fleet.toml", "ssm-profile.toml"):
        (tmp_path / name).write_text((fleet_dir / name).read_text(), encoding="utf-8")
    text = (tmp_path / "fleet.toml").read_text()
    text = text.replace("version = 1\n", "version = 1\nadopt = true\n", 1).replace('name = "staging"', 'name = "staging"\nadopt = false', 1)
    (tmp_path / "fleet.toml").write_text(text, encoding="utf-8")
    live = tmp_path / "live"
    code, _, err = run("fleet", str(tmp_path / "fleet.toml"), "-o", str(live))
    assert code == 0, err
    assert not (live / "staging" / "imports.tf").exists()
    for account, account_id in (("prod", "111122223333"), ("dev", "777788889999")):
        imports = (live / account / "imports.tf").read_text()
        assert 'to = module.ssm_profile.aws_iam_role.hybrid\n  id = "SSMServiceRole"' in imports
        assert f'id = "arn:aws:iam::{account_id}:policy/SSMInstanceProfileS3Policy"' in imports
        assert "aws_vpc_endpoint" not in imports  # endpoint IDs are not in a fleet file: created, or imported by hand
    # drift knows the file: a fleet --check is up to date
    assert run("fleet", str(tmp_path / "fleet.toml"), "-o", str(live), "--check")[0] == 0
    (tmp_path / "fleet.toml").write_text(text.replace("adopt = true", 'adopt = "yes"', 1), encoding="utf-8")
    code, _, err = run("fleet", str(tmp_path / "fleet.toml"), "-o", str(live))
    assert code == 2 and "adopt: expected true or false" in err


def test_an_existing_role_that_does_not_exist_stops_the_adoption(tmp_path: Path) -> None:
    module = tmp_path / "module"
    assert run("generate", str(EXAMPLES["existing-role"]), "-o", str(module))[0] == 0
    code, out, err = run("imports", str(module), "--from", str(details_file(tmp_path, [role_detail()])))
    assert code == 1 and out == ""
    assert "role.name: no role 'ExistingAppServerRole' exists, and role.create is false: the apply would fail attaching to it" in err.splitlines()
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps({"RoleDetailList": [role_detail()], "IsTruncated": True, "Marker": "x"}), encoding="utf-8")
    code, _, err = run("imports", str(module), "--from", str(truncated))
    assert code == 2 and "IsTruncated is true" in err and err.count("\n") == 1
