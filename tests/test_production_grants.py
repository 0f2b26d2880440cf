"""Issue 24: the grants a production instance needs where its settings differ from the defaults.

Every expected grant is written here by hand from the source the issue names (AWS's pages, the
SSM Agent's source, the re:Post knowledge center), never read back from ssm-profile's output.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from conftest import EXAMPLES, grants_of, run
from ssm_profile import SpecError, generate, spec_policies
from ssm_profile.aws.agent_buckets import agent_buckets
from ssm_profile.errors import GenerationError
from ssm_profile.judges import find_judges, judge_policies_with_parliament
from ssm_profile.release.publish import assess_release, release_record
from ssm_profile.release.versions import Level
from test_judges import plan_with_policies

LOG_KEY = "arn:aws:kms:us-east-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
BUCKET_KEY = "arn:aws:kms:us-east-2:111122223333:key/4567def0-45de-67f0-89ab-4567890123de"
EU_KEY = "arn:aws:kms:eu-west-1:111122223333:key/6789f012-67f0-89ab-abcd-6789012345f0"


def spec(regions: tuple[str, ...] = ("us-east-2",), **sections: Any) -> dict[str, Any]:
    return {"version": 1, "regions": list(regions), **sections}


def allowed(data: dict[str, Any], action: str) -> set[str]:
    """Every resource the spec's custom policies allow ``action`` on."""
    policies = spec_policies(data, account_id="111122223333").policies
    return {r for p in policies for s in p.statements if action in s.actions for r in s.resources}


def session(**settings: Any) -> dict[str, Any]:
    return spec(session_manager={"enabled": True, **settings})


# -- 1. the log bucket's encryption is always readable -----------------------------------------


@pytest.mark.parametrize("encrypted", [False, True])
def test_session_logs_to_s3_grant_get_encryption_configuration_on_the_bucket(encrypted: bool) -> None:
    # amazon-ssm-agent agent/session/shell/shell.go validate(): with s3EncryptionEnabled on (the
    # console's "Allow only encrypted S3 buckets") the agent calls GetBucketEncryption on the log
    # bucket; AWS's logging policy always grants s3:GetEncryptionConfiguration
    # (getting-started-create-iam-instance-profile.html); every bucket is encrypted by default
    # since January 5, 2023 (S3 default encryption announcement).
    data = session(s3_log_bucket="org-session-logs", s3_log_encrypted=encrypted)
    assert allowed(data, "s3:GetEncryptionConfiguration") == {"arn:aws:s3:::org-session-logs"}


# -- 2. the log bucket's KMS key: GenerateDataKey and Decrypt -----------------------------------


def test_the_log_buckets_kms_key_gets_decrypt_and_generate_data_key_on_exactly_that_key() -> None:
    # re:Post knowledge center "s3-large-file-encryption-kms-key": multipart uploads to an
    # SSE-KMS bucket need kms:Decrypt as well as kms:GenerateDataKey.
    data = session(s3_log_bucket="org-session-logs", s3_log_kms_key_arn=LOG_KEY)
    assert allowed(data, "kms:GenerateDataKey") == {LOG_KEY}
    assert allowed(data, "kms:Decrypt") == {LOG_KEY}


# -- 3. own buckets with an SSE-KMS customer key ------------------------------------------------


def test_an_own_buckets_kms_key_gets_both_actions() -> None:
    data = spec(s3={"buckets": [{"name": "org-run-command-output", "kms_key_arn": BUCKET_KEY}, {"name": "org-plain"}]})
    assert allowed(data, "kms:GenerateDataKey") == {BUCKET_KEY}
    assert allowed(data, "kms:Decrypt") == {BUCKET_KEY}


def test_a_per_region_key_table_grants_each_regions_key() -> None:
    data = spec(("us-east-2", "eu-west-1"), s3={"buckets": [{"name": "org-output", "kms_key_arn": {"us-east-2": BUCKET_KEY, "eu-west-1": EU_KEY}}]})
    assert allowed(data, "kms:GenerateDataKey") == allowed(data, "kms:Decrypt") == {BUCKET_KEY, EU_KEY}


def test_a_bucket_key_outside_the_specs_regions_is_fine() -> None:
    # A central bucket lives in one Region; its key is in that Region, wherever the instances run.
    data = spec(("eu-west-1",), s3={"buckets": [{"name": "org-central", "kms_key_arn": BUCKET_KEY}]})
    assert allowed(data, "kms:Decrypt") == {BUCKET_KEY}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("arn:aws:kms:us-east-2:111122223333:alias/logs", "s3.buckets[0].kms_key_arn: 'arn:aws:kms:us-east-2:111122223333:alias/logs' is not a KMS key ARN of partition aws"),
        ("arn:aws-cn:kms:cn-north-1:111122223333:key/abcd", "s3.buckets[0].kms_key_arn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/abcd' is not a KMS key ARN of partition aws"),
        ({"eu-west-1": EU_KEY}, 's3.buckets[0].kms_key_arn["eu-west-1"]: \'eu-west-1\' is not one of the spec\'s regions (us-east-2)'),
        ({"us-east-2": EU_KEY}, f's3.buckets[0].kms_key_arn["us-east-2"]: \'{EU_KEY[:60]}\'… (75 characters) is a key of eu-west-1; the key for us-east-2 must be in us-east-2'),
    ],
)
def test_a_bad_bucket_key_is_one_line_naming_the_field(key: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        grants_of(s3={"buckets": [{"name": "org-output", "kms_key_arn": key}]})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


# -- 4. Default Host Management takes the custom policies ---------------------------------------

DHMC_ROLE = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
DHMC_SPEC = spec(
    s3={"vpc_endpoint": True, "agent_buckets": "current", "buckets": [{"name": "org-output", "kms_key_arn": BUCKET_KEY}]},
    session_manager={"enabled": True, "s3_log_bucket": "org-session-logs", "s3_log_kms_key_arn": LOG_KEY},
    default_host_management={"enabled": True},
)


def attachments(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Attachment address -> (role it names, policy it names), from the Terraform document."""
    document = generate(data).document
    found = {}
    for block in document.of_kind("resource"):
        if block.labels[0] == "aws_iam_role_policy_attachment":
            found[block.labels[1]] = (str(block.body["role"]), str(block.body["policy_arn"]))
    return found


def test_the_default_host_management_role_takes_the_s3_and_session_manager_policies() -> None:
    # setup-instance-permissions.html: the custom S3 bucket policy can be attached to the Default
    # Host Management role; its instances have no instance profile of their own.
    (role,) = grants_of(**{k: v for k, v in DHMC_SPEC.items() if k not in ("version", "regions")}).service_roles
    assert role.name == DHMC_ROLE
    assert role.custom_policy_keys == ("s3", "session_manager")
    found = attachments(DHMC_SPEC)
    # The managed policy's attachment keeps its address (no destroy and create on upgrade).
    assert "aws_iam_role.default_host_management" in found["default_host_management"][0]
    assert "AmazonSSMManagedEC2InstanceDefaultPolicy" in found["default_host_management"][1]
    for key in ("s3", "session_manager"):
        role_ref, policy_ref = found[f"default_host_management_{key}"]
        assert "aws_iam_role.default_host_management" in role_ref and f"aws_iam_policy.{key}" in policy_ref


def test_custom_policies_false_keeps_the_default_host_management_role_to_its_own_policy() -> None:
    data = {**DHMC_SPEC, "default_host_management": {"enabled": True, "custom_policies": False}}
    assert not [a for a in attachments(data) if a.startswith("default_host_management_")]


def test_default_host_management_attachments_count_toward_the_quota() -> None:
    # The instance role: AmazonSSMManagedInstanceCore + S3 + Session Manager = 3; the Default
    # Host Management role: its own policy + S3 + Session Manager = 3; a quota of 2 fits neither,
    # a quota of 3 both; without the instance core policy only the service role is over.
    data = {**DHMC_SPEC, "managed_policies": {"instance_core": False}, "limits": {"managed_policies_per_role": 2}}
    with pytest.raises(GenerationError) as caught:
        generate(data)
    assert str(caught.value).startswith(f"limits.managed_policies_per_role: the role {DHMC_ROLE} (default host management role) needs 3")
    generate({**DHMC_SPEC, "limits": {"managed_policies_per_role": 3}})


# -- 5. the hybrid role's quota -----------------------------------------------------------------


def test_the_hybrid_roles_extra_core_policy_counts_toward_the_quota() -> None:
    # hybrid-multicloud-service-role.html: the hybrid role always takes AmazonSSMManagedInstanceCore.
    data = spec(
        managed_policies={"instance_core": False, "directory_service": True, "cloudwatch_agent": True},
        s3={"buckets": [{"name": "org-output"}]},
        hybrid={"enabled": True},
        limits={"managed_policies_per_role": 3},
    )
    with pytest.raises(GenerationError) as caught:
        generate(data)
    assert str(caught.value).startswith("limits.managed_policies_per_role: the role SSMServiceRole (hybrid role) needs 4 managed policies")
    generate({**data, "limits": {"managed_policies_per_role": 4}})


# -- 6. a role that grants nothing --------------------------------------------------------------


def test_a_role_that_grants_nothing_is_a_warning_naming_what_to_enable(tmp_path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec(managed_policies={"instance_core": False})))
    code, _, err = run("generate", str(path), "-o", str(tmp_path / "out"))
    assert code == 0
    (line,) = [line for line in err.splitlines() if "no permissions" in line]
    assert "managed_policies.instance_core: is false" in line and "set managed_policies.instance_core = true" in line


def test_a_role_with_anything_granted_has_no_such_warning() -> None:
    assert not [w for w in grants_of(managed_policies={"instance_core": False}, s3={"buckets": [{"name": "org-x"}]}).warnings if "no permissions" in w]


# -- 7. policy --account-id ---------------------------------------------------------------------

# An ARN as IAM takes it: arn:partition:service:region:account:resource, the account 12 digits
# or empty (S3), never a placeholder (IAM identifiers reference, "ARN format").
ARN = re.compile(r"\*|arn:aws:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:[^<>\s]+")


def test_policy_without_account_id_where_a_document_names_the_account_is_exit_2() -> None:
    code, out, err = run("policy", str(EXAMPLES["multi-region-full"]), "--name", "SSMSessionManagerFullPolicy")
    assert (code, out) == (2, "")
    assert err.startswith("ssm-profile: error: --account-id: is required: SSMSessionManagerFullPolicy names the account")
    assert err.count("\n") == 1


def test_policy_with_account_id_prints_only_valid_arns() -> None:
    code, out, _ = run("policy", str(EXAMPLES["multi-region-full"]), "--name", "SSMSessionManagerFullPolicy", "--account-id", "444455556666")
    assert code == 0
    resources = [r for s in json.loads(out)["Statement"] for r in s["Resource"]]
    assert "arn:aws:logs:us-east-1:444455556666:log-group:/aws/ssm/sessions" in resources
    assert [r for r in resources if not ARN.fullmatch(r)] == []


@pytest.mark.parametrize("account", ["12345", "1234567890123", "abcdefghijkl"])
def test_a_bad_account_id_is_exit_2(account: str) -> None:
    code, _, err = run("policy", str(EXAMPLES["basic"]), "--account-id", account)
    assert code == 2 and "--account-id: " in err and "12 digits" in err


def test_a_spec_whose_policies_name_no_account_needs_no_account_id() -> None:
    code, out, _ = run("policy", str(EXAMPLES["existing-role"]))
    assert code == 0 and "<account-id>" not in out


# -- 8. seed: the seed's templates where AWS uses them ------------------------------------------


def test_seed_in_cape_town_grants_only_names_aws_uses_there() -> None:
    # The archived 2023 page (the seed): birdwatcher-prod everywhere but af-south-1 and
    # eu-south-1, where aws-ssm-distributor-file replaces it; af-south-1's snapshot bucket is
    # patch-baseline-snapshot-af-south-1-tbxdb5b9 (also patch-operations-s3-buckets.html).
    assert agent_buckets("seed", "af-south-1") == (
        "amazon-ssm-af-south-1",
        "amazon-ssm-packages-af-south-1",
        "aws-ssm-af-south-1",
        "aws-ssm-distributor-file-af-south-1",
        "aws-ssm-document-attachments-af-south-1",
        "aws-windows-downloads-af-south-1",
        "patch-baseline-snapshot-af-south-1-tbxdb5b9",
    )


@pytest.mark.parametrize(
    ("region", "snapshot"),
    [
        # patch-operations-s3-buckets.html: the six Regions whose snapshot bucket has a suffix.
        ("af-south-1", "patch-baseline-snapshot-af-south-1-tbxdb5b9"),
        ("ap-south-2", "patch-baseline-snapshot-ap-south-2-50209442"),
        ("ap-southeast-3", "patch-baseline-snapshot-ap-southeast-3-be0a3174"),
        ("ap-southeast-4", "patch-baseline-snapshot-ap-southeast-4-dc6f76ce"),
        ("eu-south-2", "patch-baseline-snapshot-eu-south-2-"),
        ("me-south-1", "patch-baseline-snapshot-me-south-1-uduvl7q8"),
    ],
)
def test_seed_never_grants_the_unsuffixed_snapshot_bucket_where_aws_uses_a_suffix(region: str, snapshot: str) -> None:
    snapshots = [n for n in agent_buckets("seed", region) if n.startswith("patch-baseline-snapshot-")]
    assert len(snapshots) == 1 and snapshots[0].startswith(snapshot) and snapshots[0] != f"patch-baseline-snapshot-{region}"


def test_seed_in_us_east_2_is_the_seed_pages_list_where_it_applies() -> None:
    # The archived seed page's templates for us-east-2; aws-ssm-distributor-file is only for
    # af-south-1 and eu-south-1.
    assert agent_buckets("seed", "us-east-2") == (
        "amazon-ssm-packages-us-east-2",
        "amazon-ssm-us-east-2",
        "aws-ssm-document-attachments-us-east-2",
        "aws-ssm-us-east-2",
        "aws-windows-downloads-us-east-2",
        "patch-baseline-snapshot-us-east-2",
        "us-east-2-birdwatcher-prod",
    )


def test_current_in_us_east_2_is_exactly_awss_example() -> None:
    # ssm-agent-technical-details.html#ssm-agent-minimum-s3-permissions, the us-east-2 example
    # policy: exactly these six buckets (the page's "aws-patch-managerer-" is a typo of
    # aws-patch-manager-, per patch-operations-s3-buckets.html).
    data = spec(s3={"vpc_endpoint": True, "agent_buckets": "current"})
    assert allowed(data, "s3:GetObject") == {
        "arn:aws:s3:::aws-windows-downloads-us-east-2/*",
        "arn:aws:s3:::amazon-ssm-us-east-2/*",
        "arn:aws:s3:::aws-ssm-us-east-2/*",
        "arn:aws:s3:::patch-baseline-snapshot-us-east-2/*",
        "arn:aws:s3:::aws-patch-manager-us-east-2-552881074/*",
        "arn:aws:s3:::aws-patchmanager-macos-us-east-2-552881074/*",
    }


# -- 9. the log prefix is a folder --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "objects"),
    [
        # AWS's examples grant bucket/prefix/* (getting-started-create-iam-instance-profile.html).
        ("sessions", "arn:aws:s3:::org-session-logs/sessions/*"),
        ("sessions/", "arn:aws:s3:::org-session-logs/sessions/*"),
        ("team/a", "arn:aws:s3:::org-session-logs/team/a/*"),
        ("", "arn:aws:s3:::org-session-logs/*"),
    ],
)
def test_the_log_prefix_is_a_folder(prefix: str, objects: str) -> None:
    assert allowed(session(s3_log_bucket="org-session-logs", s3_log_prefix=prefix), "s3:PutObject") == {objects}


# -- the module README says what it grants ------------------------------------------------------


def test_the_readme_lists_the_session_manager_policy_the_endpoints_and_the_dhmc_attachments() -> None:
    data = {**DHMC_SPEC, "vpc_endpoints": {"enabled": True}}
    readme = generate(data).files["README.md"]
    section = readme.split("## What it grants and why", 1)[1].split("\n## ", 1)[0]
    assert "- Creates the Session Manager policy `SSMSessionManagerPolicy` and attaches it to the instance role" in section
    assert "- Creates the custom S3 policy `SSMInstanceProfileS3Policy` and attaches it to the instance role" in section
    # The endpoints this spec needs: AWS's four ("Create VPC endpoints"), no kms or logs.
    assert "- Creates the VPC endpoints `ssm` (interface), `ssmmessages` (interface), `ec2messages` (interface), `s3` (gateway) in us-east-2" in section
    assert (
        "Attached: `AmazonSSMManagedEC2InstanceDefaultPolicy`, `SSMInstanceProfileS3Policy`, `SSMSessionManagerPolicy`." in section
        and f"- Creates the role `{DHMC_ROLE}`" in section
    )
    assert "- Turns on Default Host Management in us-east-2" in section


# -- release --bump auto: what issue 24 does to a module released before it ----------------------


def test_a_module_released_before_issue_24_gets_a_minor_release_naming_each_added_grant() -> None:

    data = {
        **DHMC_SPEC,
        "s3": {"buckets": [{"name": "org-output"}]},
        "session_manager": {"enabled": True, "s3_log_bucket": "org-session-logs", "s3_log_prefix": "sessions/", "s3_log_kms_key_arn": LOG_KEY},
    }
    # The release before issue 24: its resources were these minus the Default Host Management
    # role's custom policy attachments, and its grants, written by hand from that release's
    # policies, lacked the log bucket's encryption check and kms:Decrypt.
    before = generate({**data, "default_host_management": {"enabled": True, "custom_policies": False}})
    record = release_record(before.document, before.grants, format="hcl", previous=None, version="1.0.0")[0]
    old_grants = {
        "SSMInstanceProfileS3Policy": ("s3:GetObject arn:aws:s3:::org-output/*", "s3:PutObject arn:aws:s3:::org-output/*"),
        "SSMSessionManagerPolicy": (f"kms:GenerateDataKey {LOG_KEY}", "s3:PutObject arn:aws:s3:::org-session-logs/sessions/*"),
    }
    module = generate(data)
    result = assess_release(module.document, module.grants, replace(record, grants=old_grants))
    lines = [reason.line() for reason in result.reasons]
    assert result.level is Level.MINOR, lines
    assert "minor: grant added: SSMSessionManagerPolicy allows kms:Decrypt on " + LOG_KEY in lines
    assert "minor: grant added: SSMSessionManagerPolicy allows s3:GetEncryptionConfiguration on arn:aws:s3:::org-session-logs" in lines
    for key, name in (("s3", "SSMInstanceProfileS3Policy"), ("session_manager", "SSMSessionManagerPolicy")):
        assert (
            f"minor: new resource aws_iam_role_policy_attachment.default_host_management_{key} "
            f"(grant added: role {DHMC_ROLE} gets the policy {name})"
        ) in lines


def test_a_log_prefix_without_slash_narrows_the_grant_and_is_classified_major() -> None:
    # bucket/sessions* also matched sessions-archive/...; issue 24 grants the folder only. A
    # narrowed grant is a grant removed: a workload may rely on it (issue 14's rules).

    data = session(s3_log_bucket="org-session-logs", s3_log_prefix="sessions")
    module = generate(data)
    record = release_record(module.document, module.grants, format="hcl", previous=None, version="1.0.0")[0]
    old = {"SSMSessionManagerPolicy": ("s3:PutObject arn:aws:s3:::org-session-logs/sessions*",)}
    result = assess_release(module.document, module.grants, replace(record, grants=old))
    assert result.level is Level.MAJOR
    assert "major: grant removed: SSMSessionManagerPolicy no longer allows s3:PutObject on arn:aws:s3:::org-session-logs/sessions*" in [
        r.line() for r in result.reasons
    ]


@pytest.mark.terraform
@pytest.mark.slow
def test_parliament_finds_no_invalid_arn_in_what_policy_account_id_prints() -> None:
    # Issue 24 item 7: parliament (a judge that is not ours) on the printed documents. Without
    # the account the placeholder is an invalid ARN; with --account-id none is.

    def invalid_arns(document: dict[str, Any]) -> list[str]:
        _, findings = judge_policies_with_parliament(plan_with_policies({"session_manager": document}), find_judges())
        return [f.check for f in findings if "ARN" in f.check]

    code, out, _ = run("policy", str(EXAMPLES["multi-region-full"]), "--name", "SSMSessionManagerFullPolicy", "--account-id", "444455556666")
    assert code == 0 and invalid_arns(json.loads(out)) == []
    placeholder = spec_policies(EXAMPLES["multi-region-full"], account_id="444455556666").document("SSMSessionManagerFullPolicy")
    text = json.dumps(placeholder).replace("444455556666", "<account-id>")
    assert invalid_arns(json.loads(text)), "parliament must flag the placeholder, or this test proves nothing"


def test_policy_name_of_a_document_without_the_account_needs_no_account_id() -> None:
    # The S3 policy names no account, even when the Session Manager policy of the same spec does.
    code, out, _ = run("policy", str(EXAMPLES["multi-region-full"]), "--name", "SSMInstanceProfileFullS3Policy")
    assert code == 0 and "<account-id>" not in out
