"""``ssm-profile test OUT --apply``: apply and destroy a generated module against the emulator.

A plan proves a configuration is valid for the provider; only an apply proves the API accepts
it (a managed policy ARN that does not exist, a document IAM rejects, an endpoint argument EC2
refuses). :func:`apply_module` runs the whole cycle against :class:`~.emulator.Emulator`:

1. take the emulator's inventory; create what the module's inputs need (per Region a VPC,
   subnet, security group and route table; the role, when the spec attaches to an existing one);
2. write a throwaway root whose providers (one per Region) point at the emulator; init, plan,
   apply the saved plan;
3. read every planned resource back through the API (:mod:`.readback`) and evaluate the
   instance role's (and the Default Host Management role's) effective S3 and KMS access with moto's IAM evaluator (:mod:`.probes`);
4. destroy, delete the inputs, and check the inventory is what it was.

The emulator stops when the run ends, fails or is interrupted.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import CheckFailed, SpecError, SsmProfileError, TerraformError
from ...spec.load import Spec, load_spec
from ...tfmodule.build import ACCOUNT_ID_VARIABLE, NETWORK_VARIABLE
from ..harness import PLAN_FILE, ModuleInfo, module_info, root_config, throwaway_root
from ..runner import TerraformRunner, default_runner
from .emulator import EMULATOR_ACCOUNT, Emulator, emulator_answers, emulator_provider
from .probes import ProbeResult, probe_table, role_probes, run_probes
from .readback import ClientFactory, check_applied, inventory, leftovers, role_policy_documents

#: The trust policy of a role the harness creates for a spec with ``role.create = false``.
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@dataclass
class ApplyReport:
    """What ``test --apply`` found: check lines, the probe table, failures and timings (or
    Terraform's error)."""

    module: str
    account: str = EMULATOR_ACCOUNT  # the emulator account it was applied in
    checks: list[tuple[str, str]] = field(default_factory=list)
    probes: list[ProbeResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    terraform_error: TerraformError | None = None  # when Terraform failed for it (a batch's modules applied one by one)

    @property
    def failures(self) -> list[str]:
        """One line per failed check or probe."""
        failed = [f"{label}: {problem}" for label, problem in self.checks if problem]
        failed += [f"probe {r.probe.role} role {r.probe.scope} {r.probe.action} on {r.probe.target}: {len(r.wrong)} not {'allowed' if r.probe.allowed else 'denied'}" for r in self.probes if not r.ok]
        return failed

    def lines(self) -> list[str]:
        """The report as text: checks, then the probe table."""
        out = [f"{'ok    ' if not problem else 'FAILED'} {label}{': ' + problem if problem else ''}" for label, problem in self.checks]
        return out + ["effective access of the instance role, and of the Default Host Management role (moto's IAM policy evaluator):"] + ["  " + line for line in probe_table(self.probes)]

    @property
    def module_dir(self) -> Path:
        return Path(self.module)

    @property
    def error(self) -> SsmProfileError | None:
        """Terraform's failure (exit 3) if it failed, else :class:`CheckFailed` (exit 1) naming the
        failed checks and probes, if any."""
        if self.terraform_error is not None:
            return self.terraform_error
        failures = self.failures
        if failures:
            return CheckFailed(f"{self.module}: {len(failures)} apply checks or probes failed: " + " | ".join(failures))
        return None

    def raise_for_failure(self) -> None:
        """Raise :attr:`error`, if any."""
        error = self.error
        if error is not None:
            raise error


def module_spec(module_dir: Path, info: ModuleInfo) -> Spec:
    """The spec the manifest names (relative to the module folder), validated."""
    if not info.spec:
        raise SpecError(str(module_dir), "the manifest names no spec; regenerate the module with this version of ssm-profile")
    return load_spec(module_dir / info.spec).spec


@dataclass
class Prerequisites:
    """What the harness created through the API for the module's inputs, to delete afterwards."""

    inputs: dict[str, Any] = field(default_factory=dict)
    networks: dict[str, dict[str, str]] = field(default_factory=dict)
    role: str = ""
    home_region: str = ""


def create_prerequisites(client: ClientFactory, info: ModuleInfo, spec: Spec, account: str = EMULATOR_ACCOUNT) -> Prerequisites:
    """Create the network and the existing role the module's inputs name, through the API of
    ``account`` (``client`` acts there)."""
    made = Prerequisites(home_region=info.regions[0])
    if ACCOUNT_ID_VARIABLE in info.required_inputs:
        made.inputs[ACCOUNT_ID_VARIABLE] = account
    if not spec.role.create:
        client("iam", info.regions[0]).create_role(RoleName=spec.role.name, Path=spec.role.path, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        made.role = spec.role.name
    if NETWORK_VARIABLE in info.required_inputs:
        network: dict[str, Any] = {}
        for region in info.regions:
            ec2 = client("ec2", region)
            vpc = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
            made.networks[region] = {"vpc": vpc}
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.80.1.0/24", AvailabilityZone=f"{region}a")["Subnet"]["SubnetId"]
            group = ec2.create_security_group(GroupName="ssm-profile-endpoints", Description="ssm-profile test --apply", VpcId=vpc)["GroupId"]
            table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            made.networks[region].update(subnet=subnet, group=group, table=table)
            network[region] = {"vpc_id": vpc, "subnet_ids": [subnet], "security_group_ids": [group], "route_table_ids": [table]}
        made.inputs[NETWORK_VARIABLE] = network
    return made


def delete_prerequisites(client: ClientFactory, made: Prerequisites) -> None:
    """Delete what :func:`create_prerequisites` made, dependants first."""
    for region, ids in made.networks.items():
        ec2 = client("ec2", region)
        for call, key, name in (
            (ec2.delete_route_table, "table", "RouteTableId"),
            (ec2.delete_security_group, "group", "GroupId"),
            (ec2.delete_subnet, "subnet", "SubnetId"),
            (ec2.delete_vpc, "vpc", "VpcId"),
        ):
            if key in ids:
                call(**{name: ids[key]})
    if made.role:
        client("iam", made.home_region).delete_role(RoleName=made.role)


def apply_root(info: ModuleInfo, url: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The throwaway root of :func:`.harness.root_config`, every provider pointed at the emulator."""
    config = root_config(info, offline=False, inputs=inputs)
    for provider in config["provider"]["aws"]:
        provider.update(emulator_provider(url))
    config["//"] = "Throwaway root written by ssm-profile test --apply: every provider talks to a local AWS API emulator."
    return config


def apply_module(
    module_dir: Path,
    runner: TerraformRunner | None = None,
    emulator: Emulator | None = None,
    progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply, check and destroy the module at ``module_dir`` against the emulator.

    Starts (and always stops) an emulator unless one is given. Raises
    :class:`~ssm_profile.errors.TerraformError` when Terraform fails (after trying to
    destroy what was created); check and probe failures are in the report.
    """
    module_dir = Path(module_dir)
    info = module_info(module_dir)
    spec = module_spec(module_dir, info)
    say = progress or (lambda message: None)
    runner = runner or default_runner()
    with contextlib.ExitStack() as stack:
        if emulator is None:
            emulator = stack.enter_context(Emulator())
        say(f"AWS API emulator listening on {emulator.url}")
        with emulator_answers(emulator):
            return _apply_cycle(module_dir, info, spec, runner, emulator, say)


def _apply_cycle(module_dir: Path, info: ModuleInfo, spec: Spec, runner: TerraformRunner, emulator: Emulator, say: Callable[[str], None]) -> ApplyReport:
    report = ApplyReport(str(module_dir))
    before = inventory(emulator.client, info.regions)
    made = create_prerequisites(emulator.client, info, spec)
    # Two scopes on purpose: the prerequisites outlive the root, and are deleted even when making it fails.
    with cleanup_after(lambda: delete_prerequisites(emulator.client, made), say):  # noqa: SIM117
        with throwaway_root(module_dir, offline=False, config=apply_root(info, emulator.url, made.inputs)) as root:
            runner.init(root)
            runner.plan(root, PLAN_FILE)
            plan = runner.show(root, PLAN_FILE)

            def destroy() -> None:
                say("destroying")
                timed(report.seconds, "destroy", lambda: runner.destroy(root))

            with cleanup_after(destroy, say):
                say("applying")
                timed(report.seconds, "apply", lambda: runner.apply(root, PLAN_FILE))
                say("reading back")
                read_back(report, plan, emulator.client, info, spec)
    check_nothing_left(report, before, emulator.client, info.regions)
    return report


def read_back(report: ApplyReport, plan: dict[str, Any], client: ClientFactory, info: ModuleInfo, spec: Spec) -> None:
    """Into ``report``: every planned resource checked against the API of ``report.account``
    (``client`` acts there), and the effective S3 and KMS access of the instance role (and the
    Default Host Management role) probed."""
    report.checks += check_applied(plan, client, info.partition, report.account, info.regions[0])
    iam = client("iam", info.regions[0])
    for role_name, probes in role_probes(spec, info.partition).items():
        report.probes += run_probes(probes, role_policy_documents(iam, role_name))


def check_nothing_left(report: ApplyReport, before: dict[str, list[str]], client: ClientFactory, regions: tuple[str, ...]) -> None:
    """Into ``report``: whether the account holds nothing more than its inventory ``before``."""
    left = leftovers(before, inventory(client, regions))
    report.checks.append(("destroy left nothing behind", "; ".join(left)))


def timed(seconds: dict[str, float], step: str, run: Callable[[], None]) -> None:
    """Run ``run`` and record its wall time in ``seconds[step]``."""
    started = time.perf_counter()
    run()
    seconds[step] = time.perf_counter() - started


@contextlib.contextmanager
def cleanup_after(undo: Callable[[], None], say: Callable[[str], None]) -> Iterator[None]:
    """Run ``undo`` after the block, also when it fails; never after Ctrl-C.

    After Ctrl-C the emulator, and everything in it, goes away with the ``with Emulator()``
    block, so cleaning up would only delay the exit. When the block failed, a failure of
    ``undo`` is reported and the block's own error (Terraform's message) is the one raised.
    """
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException:
        try:
            undo()
        except Exception as error:
            say(f"cleaning up after the failure failed too: {error}")
        raise
    undo()
