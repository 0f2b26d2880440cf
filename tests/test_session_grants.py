"""Session Manager's grants, one builder per concern, each tested on its own."""

from __future__ import annotations

from ssm_profile.grants.session import (
    SESSION_MANAGER_BUILDERS,
    channel_statements,
    cloudwatch_log_statements,
    encryption_statements,
    s3_log_statements,
    session_manager_policies,
    session_manager_statements,
)
from ssm_profile.spec.load import ValidatedSpec, spec_from_data

KEY = "arn:aws:kms:us-east-1:111122223333:key/abcd-1234"
MRK = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"


def valid(regions: tuple[str, ...] = ("us-east-1",), core: bool = True, **session: object) -> ValidatedSpec:
    return spec_from_data(
        {
            "version": 1,
            "regions": list(regions),
            "managed_policies": {"instance_core": core},
            "session_manager": {"enabled": True, **session},
        }
    )


def test_channels_only_without_the_core_policy() -> None:
    assert channel_statements(valid()) == []
    channels, reports = channel_statements(valid(("us-east-1", "eu-west-1"), core=False))
    assert channels.sid == "SessionManagerChannels" and channels.resources == ("*",)
    assert all(action.startswith("ssmmessages:") for action in channels.actions) and len(channels.actions) == 4
    assert reports.actions == ("ssm:UpdateInstanceInformation",)
    assert reports.resources == (
        "arn:aws:ec2:us-east-1:<account-id>:instance/*",
        "arn:aws:ec2:eu-west-1:<account-id>:instance/*",
    )


def test_encryption_decrypts_with_each_regions_key_once() -> None:
    assert encryption_statements(valid()) == []
    (single,) = encryption_statements(valid(kms_key_arn=KEY))
    assert (single.sid, single.actions, single.resources) == ("SessionManagerKmsDecrypt", ("kms:Decrypt",), (KEY,))
    (replicas,) = encryption_statements(valid(("us-east-1", "eu-west-1"), kms_key_arn=MRK))
    assert replicas.resources == (MRK, MRK.replace("us-east-1", "eu-west-1"))


def test_s3_logs_grant_what_the_bucket_asks_and_nothing_more() -> None:
    assert s3_log_statements(valid()) == []
    put, encryption = s3_log_statements(valid(s3_log_bucket="session-logs", s3_log_prefix="ssm/"))
    assert (put.actions, put.resources) == (("s3:PutObject",), ("arn:aws:s3:::session-logs/ssm/*",))
    # Issue 24: the agent checks the bucket's encryption whatever s3_log_encrypted says (shell.go validate()).
    assert (encryption.actions, encryption.resources) == (("s3:GetEncryptionConfiguration",), ("arn:aws:s3:::session-logs",))
    every = s3_log_statements(
        valid(
            s3_log_bucket="session-logs",
            s3_log_cross_account=True,
            s3_log_encrypted=True,
            s3_log_kms_key_arn=KEY,
        )
    )
    assert [(s.sid, s.actions, s.resources) for s in every] == [
        ("SessionManagerS3Logs", ("s3:PutObject",), ("arn:aws:s3:::session-logs/*",)),
        ("SessionManagerS3LogsAcl", ("s3:PutObjectAcl",), ("arn:aws:s3:::session-logs/*",)),
        ("SessionManagerS3LogsEncryption", ("s3:GetEncryptionConfiguration",), ("arn:aws:s3:::session-logs",)),
        ("SessionManagerS3LogsKms", ("kms:Decrypt", "kms:GenerateDataKey"), (KEY,)),
    ]


def test_cloudwatch_logs_name_the_group_in_each_region() -> None:
    assert cloudwatch_log_statements(valid()) == []
    streams, describe = cloudwatch_log_statements(valid(("us-east-1", "eu-west-1"), cloudwatch_log_group="/ssm/sessions"))
    assert streams.resources == (
        "arn:aws:logs:us-east-1:<account-id>:log-group:/ssm/sessions",
        "arn:aws:logs:us-east-1:<account-id>:log-group:/ssm/sessions:*",
        "arn:aws:logs:eu-west-1:<account-id>:log-group:/ssm/sessions",
        "arn:aws:logs:eu-west-1:<account-id>:log-group:/ssm/sessions:*",
    )
    assert (describe.actions, describe.resources) == (("logs:DescribeLogGroups",), ("*",))


def test_the_policy_is_the_builders_in_order_and_nothing_when_disabled() -> None:
    everything = valid(core=False, kms_key_arn=KEY, s3_log_bucket="session-logs", cloudwatch_log_group="g")
    expected = [s for build in SESSION_MANAGER_BUILDERS for s in build(everything)]
    assert session_manager_statements(everything) == expected
    assert [s.sid for s in expected][:3] == ["SessionManagerChannels", "SessionManagerInstanceInformation", "SessionManagerKmsDecrypt"]
    (policy,) = session_manager_policies(everything)
    assert (policy.key, policy.purpose, policy.name) == ("session_manager", "session_manager", "SSMSessionManagerPolicy")
    assert list(policy.statements) == expected
    disabled = spec_from_data({"version": 1, "regions": ["us-east-1"], "managed_policies": {"instance_core": False}})
    assert session_manager_statements(disabled) == [] and session_manager_policies(disabled) == ()
