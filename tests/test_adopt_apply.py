"""Adoption proven against the AWS API emulator: what the console made, handed to a generated module.

The setup is made through boto3 the way AWS's console steps make it
(https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html,
https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-default-host-management-configuration.html):
a role trusted by EC2 (the console's trust policy has no statement ID), an instance profile of
the same name, AmazonSSMManagedInstanceCore attached, a customer managed S3 policy, and Default
Host Management turned on in two Regions with its role. Then the user's steps: export the
authorization details, ``spec-from``, ``generate``, ``imports --from``, and Terraform in a root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import run
from plan_state import init_in, terraform
from ssm_profile.terraform.apply.emulator import EMULATOR_ACCOUNT, Emulator
from ssm_profile.terraform.apply.run import apply_root
from ssm_profile.terraform.harness import module_info

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGIONS = ("us-east-2", "eu-west-1")
ROLE = "SSMInstanceProfile"
DHMC_ROLE = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"
# The IAM console's trust policy for "AWS service: EC2" (and for Systems Manager): no Sid.
EC2_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SSM_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
# A team's S3 policy for run command output, written by hand: read and write objects, the
# object ACL for a bucket of another account, and the encryption check of an encrypted bucket
# (AWS's instance-profile S3 policy, the page above, with statement IDs of the team's choosing).
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "OwnBucketsReadWrite", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": ["arn:aws:s3:::team-ssm-output/*"]},
        {"Sid": "OwnBucketsCrossAccountAcl", "Effect": "Allow", "Action": "s3:PutObjectAcl", "Resource": "arn:aws:s3:::team-ssm-output/*"},
        {"Sid": "OwnBucketsEncryption", "Effect": "Allow", "Action": "s3:GetEncryptionConfiguration", "Resource": "arn:aws:s3:::team-ssm-output"},
    ],
}


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as running:
        yield running


def make_console_setup(emulator: Emulator, role: str, path: str = "/") -> None:
    """What a team following AWS's console steps has made."""
    iam = emulator.client("iam", "us-east-1")
    iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=json.dumps(EC2_TRUST), Description="Allows EC2 instances to call AWS services on your behalf.")
    iam.create_instance_profile(InstanceProfileName=role, Path=path)
    iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    policy = iam.create_policy(PolicyName=f"{role}S3", Path=path, PolicyDocument=json.dumps(S3_POLICY), Description="Run Command output bucket")
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Policy"]["Arn"])


def make_default_host_management(emulator: Emulator) -> None:
    """Default Host Management as the console turns it on: its role, then the setting per Region."""
    iam = emulator.client("iam", "us-east-1")
    # The spec has no field for this role's description: the console's role is given the one
    # the module writes, so the plan is imports only (imports --from reports another one).
    iam.create_role(
        RoleName=DHMC_ROLE,
        Path="/service-role/",
        AssumeRolePolicyDocument=json.dumps(SSM_TRUST),
        Description="Default Host Management Configuration: Systems Manager manages EC2 instances through this role.",
    )
    iam.attach_role_policy(RoleName=DHMC_ROLE, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy")
    for region in REGIONS:
        arn = f"arn:aws:ssm:{region}:{EMULATOR_ACCOUNT}:servicesetting{SETTING}"
        emulator.client("ssm", region).update_service_setting(SettingId=arn, SettingValue=f"service-role/{DHMC_ROLE}")


def export_details(emulator: Emulator, target: Path) -> Path:
    """``aws iam get-account-authorization-details --filter Role LocalManagedPolicy > FILE``: boto3 decodes the
    policy documents to JSON objects as the CLI does; dates become strings."""
    details = emulator.client("iam", "us-east-1").get_account_authorization_details(Filter=["Role", "LocalManagedPolicy"])
    details.pop("ResponseMetadata", None)
    target.write_text(json.dumps(details, default=str), encoding="utf-8")
    return target


def plan_json(root: Path) -> dict[str, Any]:
    result = terraform(root, "plan", "-input=false", "-no-color", "-lock=false", "-out=adopt.tfplan")
    assert result.returncode == 0, (result.stderr or result.stdout)[-3000:]
    shown = terraform(root, "show", "-json", "adopt.tfplan")
    assert shown.returncode == 0, shown.stderr[-3000:]
    return json.loads(shown.stdout)


def test_a_console_setup_is_adopted_with_imports_only(emulator: Emulator, tmp_path: Path) -> None:
    make_console_setup(emulator, ROLE)
    make_default_host_management(emulator)
    details = export_details(emulator, tmp_path / "authorization-details.json")

    spec = tmp_path / "ssm-profile.toml"
    code, _, err = run("spec-from", str(details), "--role", ROLE, *(a for r in REGIONS for a in ("--region", r)), "-o", str(spec))
    assert code == 0, err
    text = spec.read_text()
    # mapped as the issue lists: the bucket with both flags, the policy's name and description, DHMC
    for line in ('name = "team-ssm-output"', "cross_account = true", "encrypted = true", f'policy_name = "{ROLE}S3"',
                 'policy_description = "Run Command output bucket"', "instance_core = true", f'role_name = "{DHMC_ROLE}"'):
        assert line in text, text

    root = tmp_path / "root"
    module = root / "module"
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    code, _, err = run("imports", str(module), "--from", str(details), "-o", str(root / "imports.tf"))
    assert code == 0, err
    config = apply_root(module_info(module), emulator.url, {"account_id": EMULATOR_ACCOUNT})
    (root / "main.tf.json").write_text(json.dumps(config), encoding="utf-8")
    assert init_in(root).returncode == 0

    plan = plan_json(root)
    changes = {c["address"]: c["change"] for c in plan["resource_changes"]}
    expected = {
        "module.ssm_profile.aws_iam_role.this",
        "module.ssm_profile.aws_iam_instance_profile.this",
        "module.ssm_profile.aws_iam_role_policy_attachment.instance_core",
        "module.ssm_profile.aws_iam_policy.s3",
        "module.ssm_profile.aws_iam_role_policy_attachment.s3",
        "module.ssm_profile.aws_iam_role.default_host_management",
        "module.ssm_profile.aws_iam_role_policy_attachment.default_host_management",
        "module.ssm_profile.aws_ssm_service_setting.default_host_management_us_east_2",
        "module.ssm_profile.aws_ssm_service_setting.default_host_management_eu_west_1",
    }
    assert set(changes) == expected
    # 0 to add, 0 to change, 0 to destroy: every change is an import and nothing else
    not_imports = {a: c["actions"] for a, c in changes.items() if c["actions"] != ["no-op"] or "importing" not in c}
    assert not_imports == {}

    applied = terraform(root, "apply", "-input=false", "-no-color", "adopt.tfplan")
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert "9 imported, 0 added, 0 changed, 0 destroyed" in applied.stdout
    again = terraform(root, "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "No changes." in again.stdout

    # A later day: the team stops managing Default Host Management, and keeps it on.
    code, _, err = run("imports", str(module), "--account-id", EMULATOR_ACCOUNT, "--removed", "-o", str(root / "removed.tf"))
    assert code == 0, err
    spec.write_text(text.replace("enabled = true", "enabled = false"), encoding="utf-8")
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    # The root keeps its Region providers for this apply: Terraform needs a resource's provider
    # to forget it, and the module without Default Host Management declares none of them.
    after = apply_root(module_info(module), emulator.url, {})
    (root / "main.tf.json").write_text(json.dumps({**after, "provider": config["provider"]}), encoding="utf-8")
    (root / "imports.tf").unlink()  # its Default Host Management imports name resources the module no longer has
    plan = plan_json(root)
    forgotten = {c["address"] for c in plan["resource_changes"] if c["change"]["actions"] == ["forget"]}
    assert forgotten == {a for a in expected if "default_host_management" in a}
    assert [c["address"] for c in plan["resource_changes"] if c["change"]["actions"] not in (["forget"], ["no-op"])] == []
    applied = terraform(root, "apply", "-input=false", "-no-color", "adopt.tfplan")
    assert applied.returncode == 0, applied.stderr[-3000:]
    for region in REGIONS:  # still on, still naming its role, which still exists
        setting = emulator.client("ssm", region).get_service_setting(SettingId=SETTING)["ServiceSetting"]
        assert setting["SettingValue"] == f"service-role/{DHMC_ROLE}"
    assert emulator.client("iam", "us-east-1").get_role(RoleName=DHMC_ROLE)["Role"]["Path"] == "/service-role/"


def test_a_role_at_another_path_is_one_line_and_exit_1_before_any_apply(emulator: Emulator, tmp_path: Path) -> None:
    make_console_setup(emulator, "TeamSSMRole", path="/team/")
    details = export_details(emulator, tmp_path / "authorization-details.json")
    spec = tmp_path / "spec.toml"
    spec.write_text('version = 1\nregions = ["us-east-2"]\n[role]\nname = "TeamSSMRole"\n', encoding="utf-8")
    module = tmp_path / "module"
    assert run("generate", str(spec), "-o", str(module))[0] == 0
    output = tmp_path / "imports.tf"
    code, out, err = run("imports", str(module), "--from", str(details), "-o", str(output))
    assert code == 1
    assert "role.path: '/', but role TeamSSMRole has path '/team/' (the plan would replace it)" in err.splitlines()
    assert "role.path: '/' is also the instance profile's path, but TeamSSMRole has path '/team/' (the plan would replace it)" in err.splitlines()
    assert not output.exists() and out == ""
