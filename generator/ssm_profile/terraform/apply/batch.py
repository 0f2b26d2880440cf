"""``ssm-profile test M1 M2 … --apply``: several modules applied in one root, each in its own account.

Every Terraform step starts the ~700 MB provider, so applying six modules one by one pays
init, plan, show, apply and destroy six times. :func:`apply_modules` writes one root
(:func:`~.batch.batch_config`) that calls every module, and runs each step once for all of
them. The modules must not see each other: two examples may name the same role, or set the
same Region's service setting. So each module lives in an emulator account of its own: its
providers assume a role in that account through the emulator's STS (as a fleet's account
roots do, and as moto documents for several accounts), and the harness creates its
prerequisites, reads it back and takes its inventory with that account's credentials.

When a Terraform step fails, what the batch created is destroyed and every module is applied
again on its own (:func:`~.apply.apply_module`), so the failure is reported against the module
that caused it, with Terraform's own message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import TerraformError
from ...spec.load import Spec
from ..batch import PLAN_FILE, BatchModule, batch_config, batch_modules, batch_root, module_plan, write_root
from ..runner import TerraformRunner, default_runner
from .emulator import SESSION_NAME, Emulator, account_role_arn, emulator_answers, emulator_provider
from .readback import ClientFactory, inventory
from .run import (
    ApplyReport,
    Prerequisites,
    apply_module,
    check_nothing_left,
    cleanup_after,
    create_prerequisites,
    delete_prerequisites,
    module_spec,
    read_back,
    timed,
)

Say = Callable[[str], None]
#: The accounts the modules of a batch live in: the first module's, then one up for each next.
FIRST_ACCOUNT = 100000000001


@dataclass
class _Member:
    """One module of the batch: its account, the client factory acting there, what was made."""

    module: BatchModule
    spec: Spec
    account: str
    client: ClientFactory
    before: dict[str, list[str]]
    made: Prerequisites | None = None


def apply_modules(
    module_dirs: list[Path] | tuple[Path, ...],
    runner: TerraformRunner | None = None,
    emulator: Emulator | None = None,
    progress: Say | None = None,
) -> list[ApplyReport]:
    """Apply, check and destroy every module of ``module_dirs``; one report each, in the order given.

    One module takes :func:`~.apply.apply_module`'s own root (and its TerraformError is
    raised); of several, a module Terraform fails for gets a report holding the error. Starts
    (and always stops) an emulator unless one is given.
    """
    modules = batch_modules(module_dirs)
    runner = runner or default_runner()
    say = progress or (lambda message: None)
    with contextlib.ExitStack() as stack:
        if emulator is None:
            emulator = stack.enter_context(Emulator())
        if len(modules) == 1:
            return [apply_module(modules[0].module_dir, runner, emulator, progress)]
        say(f"AWS API emulator listening on {emulator.url}")
        try:
            with emulator_answers(emulator):
                return _apply_together(modules, runner, emulator, say)
        except TerraformError as error:
            say(f"the batch failed ({str(error).splitlines()[0]}); applying each module on its own to find which")
            return [_apply_alone(m.module_dir, runner, emulator, progress) for m in modules]


def _apply_alone(module_dir: Path, runner: TerraformRunner, emulator: Emulator, progress: Say | None) -> ApplyReport:
    try:
        return apply_module(module_dir, runner, emulator, progress)
    except TerraformError as error:
        return ApplyReport(str(module_dir), terraform_error=error)


def _members(modules: list[BatchModule], emulator: Emulator) -> list[_Member]:
    members = []
    for index, module in enumerate(modules):
        account = str(FIRST_ACCOUNT + index)
        client = emulator.account_client(account, module.info.partition)
        spec = module_spec(module.module_dir, module.info)
        members.append(_Member(module, spec, account, client, inventory(client, module.info.regions)))
    return members


def _apply_together(modules: list[BatchModule], runner: TerraformRunner, emulator: Emulator, say: Say) -> list[ApplyReport]:
    members = _members(modules, emulator)
    reports = [ApplyReport(str(m.module.module_dir), m.account) for m in members]
    with cleanup_after(lambda: _delete_all(members), say):
        for member in members:
            member.made = create_prerequisites(member.client, member.module.info, member.spec, member.account)
        with batch_root(modules, offline=False) as root:
            inputs = [m.made.inputs if m.made is not None else {} for m in members]
            write_root(root, modules, offline=False, config=apply_config(modules, [m.account for m in members], inputs, emulator.url))
            say("init")
            runner.init(root)
            say("plan")
            runner.plan(root, PLAN_FILE)
            plan = runner.show(root, PLAN_FILE)
            seconds: dict[str, float] = {}
            with cleanup_after(lambda: timed(seconds, "destroy", lambda: runner.destroy(root)), say):
                say("applying")
                timed(seconds, "apply", lambda: runner.apply(root, PLAN_FILE))
                say("reading back")
                for member, report in zip(members, reports, strict=True):
                    read_back(report, module_plan(plan, member.module), member.client, member.module.info, member.spec)
                say("destroying")
    for member, report in zip(members, reports, strict=True):
        report.seconds = dict(seconds)
        check_nothing_left(report, member.before, member.client, member.module.info.regions)
    return reports


def apply_config(modules: list[BatchModule], accounts: list[str], inputs: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """The batch root with each module's providers pointed at the emulator at ``url``, acting in
    the module's account (same order as ``modules``), and each module's call given its inputs."""
    config = batch_config(modules, offline=False)
    owner: dict[str, tuple[BatchModule, str]] = {}
    for module, account in zip(modules, accounts, strict=True):
        for alias in [module.call] + [f"{module.call}_{alias}" for _, alias in module.info.provider_aliases]:
            owner[alias] = (module, account)
    for provider in config["provider"]["aws"]:
        module, account = owner[provider["alias"]]
        role_arn = account_role_arn(account, module.info.partition)
        provider.update(emulator_provider(url), assume_role=[{"role_arn": role_arn, "session_name": SESSION_NAME}])
    for module, values in zip(modules, inputs, strict=True):
        config["module"][module.call].update(values)
    config["//"] = "Throwaway root written by ssm-profile test --apply: every module in its own account of a local AWS API emulator."
    return config


def _delete_all(members: list[_Member]) -> None:
    for member in members:
        if member.made is not None:
            delete_prerequisites(member.client, member.made)
