"""``ssm-profile test --apply``: every example applied and destroyed against the AWS API emulator,
the SSM service-setting calls added to the emulator, the probes, and the emulator's lifetime."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import botocore.exceptions
import pytest

from conftest import EXAMPLES, GENERATOR, MODULES, run
from ssm_profile.spec.load import spec_from_data
from ssm_profile.terraform.apply import emulator as emulator_module
from ssm_profile.terraform.apply.batch import apply_modules
from ssm_profile.terraform.apply.emulator import EMULATOR_ACCOUNT, Emulator
from ssm_profile.terraform.apply.probes import OTHER_KEY_ID, expected_probes, role_probes, run_probes
from ssm_profile.terraform.apply.run import ApplyReport

SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"


@pytest.fixture(scope="module")
def emulator():
    """One emulator for the whole module: each apply cleans up after itself, and checks it did."""
    with Emulator() as running:
        yield running


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# -- the emulator ---------------------------------------------------------------------------


def test_emulator_listens_on_loopback_only_and_stops() -> None:
    with Emulator() as running:
        assert running.url == f"http://127.0.0.1:{running.port}"
        assert _listening(running.port)
        process = running.process
    assert process is not None and process.poll() is not None
    assert not _listening(running.port)


def test_service_settings_follow_the_api_reference(emulator: Emulator) -> None:
    arn = f"arn:aws:ssm:eu-west-3:{EMULATOR_ACCOUNT}:servicesetting{SETTING}"
    ssm = emulator.client("ssm", "eu-west-3")
    default = ssm.get_service_setting(SettingId=arn)["ServiceSetting"]
    assert (default["SettingId"], default["ARN"], default["Status"]) == (SETTING, arn, "Default")

    ssm.update_service_setting(SettingId=arn, SettingValue="service-role/Managed")
    updated = ssm.get_service_setting(SettingId=SETTING)["ServiceSetting"]  # by ID or by ARN alike
    assert (updated["SettingValue"], updated["Status"]) == ("service-role/Managed", "Customized")
    other_region = emulator.client("ssm", "eu-west-2").get_service_setting(SettingId=SETTING)["ServiceSetting"]
    assert other_region["Status"] == "Default"

    reset = ssm.reset_service_setting(SettingId=arn)["ServiceSetting"]
    assert (reset["SettingValue"], reset["Status"]) == ("", "Default")
    with pytest.raises(botocore.exceptions.ClientError, match="ServiceSettingNotFound"):
        ssm.update_service_setting(SettingId="/ssm/not-a-setting", SettingValue="x")


def test_managed_policies_are_loaded(emulator: Emulator) -> None:
    iam = emulator.client("iam", "us-east-1")
    assert iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")["Policy"]["PolicyName"]


def test_without_the_extra_test_apply_exits_2_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator_module, "missing_packages", lambda: ["moto"])
    code, _, err = run("test", str(MODULES / "basic"), "--apply")
    assert code == 2
    assert "pip install 'ssm-profile[emulator]'" in err


# -- probes ---------------------------------------------------------------------------------


def _spec(**sections: object) -> object:
    return spec_from_data({"version": 1, "regions": ["eu-west-1"], **sections}).spec


def test_probes_expect_from_the_spec_not_from_the_policy() -> None:
    spec = _spec(s3={"vpc_endpoint": True, "buckets": [{"name": "org-out", "cross_account": True}]})
    probes = {(p.action, p.target): p for p in expected_probes(spec, "aws")}
    agent_read = probes[("s3:GetObject", "objects of AWS-owned buckets")]
    assert agent_read.allowed and "arn:aws:s3:::aws-ssm-eu-west-1/ssm-profile-probe/object" in agent_read.resources
    assert probes[("s3:PutObjectAcl", "s3.buckets org-out objects")].allowed
    assert not probes[("s3:GetEncryptionConfiguration", "s3.buckets org-out root")].allowed


def test_probes_catch_an_overgrant_and_an_undergrant() -> None:
    spec = _spec(s3={"vpc_endpoint": True})
    probes = expected_probes(spec, "aws")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    wrong = {r.probe.action for r in run_probes(probes, [everything]) if not r.ok}
    assert wrong == {"s3:GetObject", "s3:PutObject", "s3:PutObjectAcl", "s3:GetEncryptionConfiguration"}
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}
    missing = [r for r in run_probes(probes, [nothing]) if not r.ok]
    assert [(r.probe.action, r.probe.target) for r in missing] == [("s3:GetObject", "objects of AWS-owned buckets")]


LOG_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
BUCKET_KEY = "arn:aws:kms:eu-west-1:111122223333:key/4567def0-45de-67f0-89ab-4567890123de"
PRODUCTION = {
    "s3": {"buckets": [{"name": "org-out", "kms_key_arn": BUCKET_KEY}]},
    "session_manager": {"enabled": True, "s3_log_bucket": "org-logs", "s3_log_prefix": "sessions", "s3_log_kms_key_arn": LOG_KEY},
    "default_host_management": {"enabled": True},
}


def _allow(*statements: tuple[str, str]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in statements]}


def test_probes_expect_the_production_grants_of_issue_24() -> None:
    # Written from the issue's sources: the log bucket's encryption readable whatever
    # s3_log_encrypted says (shell.go validate()), both KMS actions with each named key (re:Post
    # s3-large-file-encryption-kms-key), never with another key, the prefix a folder.
    probes = {(p.action, p.target): p for p in expected_probes(_spec(**PRODUCTION), "aws")}
    assert probes[("s3:GetEncryptionConfiguration", "session log bucket org-logs root")].allowed
    assert probes[("s3:PutObject", "session log bucket org-logs objects")].resources == ("arn:aws:s3:::org-logs/sessions/ssm-profile-probe.log",)
    assert not probes[("s3:PutObject", "session log bucket org-logs objects beside the log folder")].allowed
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert probes[(action, "session log bucket key")].resources == (LOG_KEY,) and probes[(action, "session log bucket key")].allowed
        assert probes[(action, "s3.buckets org-out key")].resources == (BUCKET_KEY,) and probes[(action, "s3.buckets org-out key")].allowed
        other = probes[(action, "a key the spec does not name")]
        assert other.resources == (f"arn:aws:kms:eu-west-1:111122223333:key/{OTHER_KEY_ID}",) and not other.allowed


def test_kms_probes_catch_a_missing_decrypt_and_a_key_wildcard() -> None:
    probes = expected_probes(_spec(**PRODUCTION), "aws")
    s3 = [("s3:GetObject", "arn:aws:s3:::org-out/*"), ("s3:PutObject", "arn:aws:s3:::org-out/*"), ("s3:PutObject", "arn:aws:s3:::org-logs/sessions/*"),
          ("s3:GetEncryptionConfiguration", "arn:aws:s3:::org-logs")]
    exact = _allow(*s3, ("kms:Decrypt", LOG_KEY), ("kms:GenerateDataKey", LOG_KEY), ("kms:Decrypt", BUCKET_KEY), ("kms:GenerateDataKey", BUCKET_KEY))
    assert [r.probe.target for r in run_probes(probes, [exact]) if not r.ok] == []
    before_issue_24 = _allow(*s3, ("kms:GenerateDataKey", LOG_KEY))
    assert {(r.probe.action, r.probe.target) for r in run_probes(probes, [before_issue_24]) if not r.ok} == {
        ("kms:Decrypt", "session log bucket key"), ("kms:Decrypt", "s3.buckets org-out key"), ("kms:GenerateDataKey", "s3.buckets org-out key"),
    }
    any_key = _allow(*s3, ("kms:Decrypt", "*"), ("kms:GenerateDataKey", "*"))
    assert {r.probe.target for r in run_probes(probes, [any_key]) if not r.ok} == {"a key the spec does not name"}


def test_the_default_host_management_role_is_probed_like_the_instance_role_unless_opted_out() -> None:
    table = role_probes(_spec(**PRODUCTION), "aws")
    assert list(table) == ["SSMInstanceProfile", "AWSSystemsManagerDefaultEC2InstanceManagementRole"]
    dhmc = table["AWSSystemsManagerDefaultEC2InstanceManagementRole"]
    assert {p.role for p in dhmc} == {"default host management"}
    assert [(p.action, p.target, p.allowed) for p in dhmc] == [(p.action, p.target, p.allowed) for p in table["SSMInstanceProfile"]]
    opted_out = role_probes(_spec(**{**PRODUCTION, "default_host_management": {"enabled": True, "custom_policies": False}}), "aws")
    assert not any(p.allowed for p in opted_out["AWSSystemsManagerDefaultEC2InstanceManagementRole"])


# -- apply and destroy ----------------------------------------------------------------------


def _portable_copy(module: Path, target: Path) -> Path:
    """A copy of ``module`` at ``target`` whose manifest still finds the spec."""
    shutil.copytree(module, target)
    manifest = json.loads((target / ".ssm-profile.json").read_text())
    manifest["spec"] = str((module / manifest["spec"]).resolve())
    (target / ".ssm-profile.json").write_text(json.dumps(manifest))
    return target


@pytest.fixture(scope="module")
def applied(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ApplyReport]:
    """Every example, and a twin of basic (same role name), applied in one root: one init, plan,
    apply and destroy for all of them, each module in an emulator account of its own."""
    twin = _portable_copy(MODULES / "basic", tmp_path_factory.mktemp("twin") / "basic-twin")
    reports = apply_modules([MODULES / name for name in sorted(EXAMPLES)] + [twin], emulator=emulator)
    return {Path(report.module).name: report for report in reports}


@pytest.mark.terraform
@pytest.mark.slow
@pytest.mark.parametrize("name", [*sorted(EXAMPLES), "basic-twin"])
def test_every_example_applies_checks_and_destroys(name: str, applied: dict[str, ApplyReport]) -> None:
    report = applied[name]
    assert report.failures == [], "\n".join(report.lines())
    kinds = {label.split(" ", 1)[0] for label, _ in report.checks}
    assert {"role", "attachment", "destroy"} <= kinds or {"instance", "attachment", "destroy"} <= kinds
    assert report.probes and all(result.ok for result in report.probes)
    assert set(report.seconds) == {"apply", "destroy"}


@pytest.mark.terraform
@pytest.mark.slow
def test_the_modules_of_one_apply_live_in_accounts_of_their_own(applied: dict[str, ApplyReport], emulator: Emulator) -> None:
    # basic and its twin create a role of the same name: in one account the second would fail
    assert len({report.account for report in applied.values()}) == len(applied)
    assert EMULATOR_ACCOUNT not in {report.account for report in applied.values()}
    role_checks = [label for label, _ in applied["basic-twin"].checks if label.startswith("role ")]
    assert role_checks and role_checks == [label for label, _ in applied["basic"].checks if label.startswith("role ")]
    # and one root did it: apply and destroy were timed once, for all of them
    assert len({tuple(report.seconds.items()) for report in applied.values()}) == 1
    # none of them landed in the emulator's default account
    roles = [r["RoleName"] for r in emulator.client("iam", "us-east-1").list_roles()["Roles"]]
    assert not [name for name in roles if name.startswith("SSMInstanceProfile")]


@pytest.mark.terraform
@pytest.mark.slow
def test_apply_catches_a_managed_policy_that_does_not_exist(tmp_path: Path) -> None:
    module = _portable_copy(MODULES / "basic", tmp_path / "basic")
    main = module / "main.tf"
    real = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert f'"{real}"' in main.read_text()
    main.write_text(main.read_text().replace(f'"{real}"', f'"{real}DoesNotExist"'))

    code, out, err = run("test", str(module), "--apply")
    assert code == 3, out + err
    # init, plan and show passed: a plan cannot see it; the apply is what fails.
    assert "terraform apply failed" in err and "AmazonSSMManagedInstanceCoreDoesNotExist" in err


@pytest.mark.terraform
@pytest.mark.slow
def test_a_module_terraform_fails_for_is_blamed_and_the_others_still_apply(tmp_path: Path) -> None:
    module = _portable_copy(MODULES / "basic", tmp_path / "broken")
    with (module / "main.tf").open("a", encoding="utf-8") as main:
        main.write('\noutput "broken" {\n  value = aws_iam_role.does_not_exist.arn\n}\n')

    code, out, err = run("test", str(MODULES / "existing-role"), str(module), "--apply")
    assert code == 3, out + err
    # The batch's failure sends each module through an apply of its own: the good one is
    # applied, checked and reported; the broken one is blamed, with Terraform's message.
    assert "the batch failed" in err
    assert f"{MODULES / 'existing-role'}: apply ok" in out
    [failed] = [line for line in out.splitlines() if ": FAILED: terraform" in line]
    assert failed.startswith(f"{module}: ") and "Reference to undeclared resource" in failed and "does_not_exist" in failed
    assert "1 of 2 modules failed" in err


@pytest.mark.terraform
def test_ctrl_c_leaves_no_process_listening() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(GENERATOR), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "ssm_profile.cli.main", "test", str(MODULES / "basic"), "--apply"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert process.stderr is not None
    try:
        port = 0
        for line in process.stderr:
            if "emulator listening on http://127.0.0.1:" in line:
                port = int(line.strip().rsplit(":", 1)[1])
                break
        assert port and _listening(port)
        time.sleep(2)  # into the run: inputs, terraform init
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        process.communicate(timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            alive = subprocess.run(["ps", "-o", "pid,args", "-g", str(process.pid)], capture_output=True, text=True).stdout
            pytest.fail(f"processes of the interrupted run are still alive:\n{alive}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert not _listening(port)


def test_clients_talk_to_the_emulator_only(emulator: Emulator) -> None:
    client = emulator.client("sts", "us-east-1")
    assert client.meta.endpoint_url == emulator.url
    assert client.get_caller_identity()["Account"] == EMULATOR_ACCOUNT


def test_read_back_catches_what_differs_from_the_plan(emulator: Emulator) -> None:
    from ssm_profile.terraform.apply.readback import check_applied

    planned = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}]}
    applied = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a/*"}]}
    iam = emulator.client("iam", "us-east-1")
    arn = iam.create_policy(PolicyName="ReadBackProbe", PolicyDocument=json.dumps(applied))["Policy"]["Arn"]
    try:
        plan = {
            "resource_changes": [
                {"address": f"module.m.{kind}.p", "type": kind, "mode": "managed", "change": {"actions": ["create"], "after": after}}
                for kind, after in (
                    ("aws_iam_policy", {"name": "ReadBackProbe", "path": "/", "policy": json.dumps(planned)}),
                    ("aws_iam_role", {"name": "NeverCreated", "path": "/", "assume_role_policy": "{}"}),
                    ("aws_s3_bucket", {"bucket": "not-a-module-resource"}),
                )
            ]
        }
        problems = dict(check_applied(plan, emulator.client, "aws", EMULATOR_ACCOUNT, "us-east-1"))
    finally:
        iam.delete_policy(PolicyArn=arn)
    assert problems["policy ReadBackProbe: document equals the plan's"].startswith("document differs from the plan")
    assert "NoSuchEntity" in problems["role NeverCreated: trust policy and path as planned"]
    assert problems["module.m.aws_s3_bucket.p: no read-back check for aws_s3_bucket"] == "not checked"


def test_the_apply_root_points_every_provider_at_the_emulator_only() -> None:
    from ssm_profile.terraform.apply.run import apply_root
    from ssm_profile.terraform.harness import module_info

    info = module_info(MODULES / "multi-region-full")
    config = apply_root(info, "http://127.0.0.1:4566", {"account_id": EMULATOR_ACCOUNT})
    providers = config["provider"]["aws"]
    assert [p.get("alias", "") for p in providers] == ["", "us_east_1", "eu_central_1", "ap_southeast_1"]
    for provider in providers:
        [endpoints] = provider["endpoints"]
        assert {"ec2", "iam", "s3", "ssm", "sts"} <= set(endpoints)
        assert set(endpoints.values()) == {"http://127.0.0.1:4566"}
        assert provider["skip_credentials_validation"] and provider["access_key"] == "ssm-profile-emulator"
    assert "127.0.0.1" not in (MODULES / "multi-region-full" / "main.tf").read_text()
    assert "provider \"aws\" {" not in (MODULES / "multi-region-full" / "main.tf").read_text()


def test_a_gateway_endpoint_without_a_prefix_list_can_be_deleted(emulator: Emulator) -> None:
    ec2 = emulator.client("ec2", "cn-north-1")
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="cn.com.amazonaws.cn-north-1.s3", VpcEndpointType="Gateway", RouteTableIds=[table]
    )["VpcEndpoint"]["VpcEndpointId"]
    try:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
        states = {e["VpcEndpointId"]: e["State"].lower() for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]}
        assert states.get(endpoint, "deleted") == "deleted"
    finally:
        ec2.delete_route_table(RouteTableId=table)
        ec2.delete_vpc(VpcId=vpc)


def test_a_batch_root_points_each_modules_providers_at_its_own_account() -> None:
    from ssm_profile.terraform.apply.batch import apply_config
    from ssm_profile.terraform.batch import batch_modules

    modules = batch_modules([MODULES / "basic", MODULES / "multi-region-full"])
    network = {"vpc_endpoint_network": {"us-east-1": {"vpc_id": "vpc-1"}}}
    config = apply_config(modules, ["100000000001", "100000000002"], [{}, network], "http://127.0.0.1:4566")
    accounts = {}
    for provider in config["provider"]["aws"]:
        [endpoints] = provider["endpoints"]
        assert set(endpoints.values()) == {"http://127.0.0.1:4566"} and provider["skip_credentials_validation"]
        [assume] = provider["assume_role"]
        accounts[provider["alias"]] = assume["role_arn"].split(":")[4]
    basic, full = (module.call for module in modules)
    assert {alias: account for alias, account in accounts.items() if alias.startswith(basic)} == {basic: "100000000001"}
    assert set(accounts[alias] for alias in accounts if alias.startswith(full)) == {"100000000002"}
    assert len([alias for alias in accounts if alias.startswith(full)]) == 4  # its default and three Region aliases
    assert config["module"][full]["vpc_endpoint_network"] == network["vpc_endpoint_network"]
    assert "vpc_endpoint_network" not in config["module"][basic]


class _EmulatorDiesOnApply:
    """A TerraformRunner whose apply kills the emulator (as an OOM kill would): the read-back after it finds no API."""

    name = "fake"
    concurrent_steps = False

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.providers = None

    def init(self, workdir: Path) -> None: ...
    def plan(self, workdir: Path, plan_file: str) -> None: ...
    def destroy(self, workdir: Path) -> None: ...

    def show(self, workdir: Path, plan_file: str) -> dict:
        return {"format_version": "1.2", "resource_changes": []}

    def apply(self, workdir: Path, plan_file: str) -> None:
        assert self.emulator.process is not None
        self.emulator.process.kill()
        self.emulator.process.wait()


def test_the_emulator_dying_during_read_back_is_one_terraform_error(tmp_path: Path) -> None:
    """Issue 23: a 132-line traceback before; now TerraformError (exit 3) naming the emulator."""
    from ssm_profile import generate, write_module
    from ssm_profile.errors import TerraformError
    from ssm_profile.terraform.apply.run import apply_module

    write_module(generate(EXAMPLES["basic"], module_dir=tmp_path / "mod"), tmp_path / "mod")
    died = r"^the AWS API emulator at http://127\.0\.0\.1:\d+ exited \(code -9\) \(EndpointConnectionError: "
    with Emulator() as running, pytest.raises(TerraformError, match=died):
        apply_module(tmp_path / "mod", _EmulatorDiesOnApply(running), running)
