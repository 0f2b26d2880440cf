"""The ``ssm-profile`` command: a thin click shell over the public API.

Each command parses options, calls one library function and prints what it returns; the group
(:class:`~ssm_profile.cli.exits.ErrorGroup`) turns an :class:`~ssm_profile.errors.SsmProfileError`
into one line on stderr and its exit code: 0 ok, 1 a check failed, 2 bad input or usage,
3 Terraform failed. Heavy modules are imported inside the commands so ``--help`` costs no more
than click itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .._version import __version__
from .adopt_commands import imports, spec_from
from .exits import ErrorGroup, run_click, run_console
from .options import OUT_DIR, SPEC_ARG, notify, warn
from .terraform_commands import check, plan, test_command, validate

if TYPE_CHECKING:
    from ..drift import ModuleDrift


@click.group(cls=ErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssm-profile")
def cli() -> None:
    """Generate Terraform for AWS's instance profile for Systems Manager from a spec file."""


for _command in (validate, plan, check, test_command, imports, spec_from):
    cli.add_command(_command)


@cli.command()
@click.argument("spec", type=SPEC_ARG)
@click.option("-o", "--out", "out", type=OUT_DIR, required=True, help="Module folder to write.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["hcl", "json"]),
    default=None,
    help="Output format.  [default: the format of the module in OUT; else hcl, json with --engine cdk]",
)
@click.option(
    "--engine",
    type=click.Choice(["native", "cdk"]),
    default="native",
    show_default=True,
    help="cdk: synthesise through CDK for Terraform (Terraform JSON; needs the cdk extra).",
)
@click.option("--check", "drift_only", is_flag=True, help="Write nothing; exit 1 when OUT differs from what SPEC generates.")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated, and a folder of another spec or kind (docs/folders.md).")
def generate(spec: Path, out: Path, format_: str | None, engine: str, drift_only: bool, force: bool) -> None:
    """Generate the Terraform module for SPEC into OUT."""
    from ..output.writer import require_module_current, update_module
    from ..pipeline import generate as generate_module

    module = generate_module(spec, module_dir=out, format=format_, engine=engine)
    warn(module.grants.warnings)
    if drift_only:
        require_module_current(module, out)
        click.echo(f"{out}: up to date")
        return
    changed = update_module(module, out, force=force, notify=notify)
    if not changed:
        click.echo(f"{out}: up to date, nothing written")
        return
    click.echo(f"{out}: {written_and_removed(changed, module.files)}")


def written_and_removed(changed: Sequence[str], generated: Iterable[str]) -> str:
    """``wrote 3 of 7 files (...)``, and ``; removed 2 no longer generated (...)`` when the
    writer deleted files an earlier version generated."""
    generated = set(generated)
    written = sorted(name for name in changed if name in generated)
    removed = sorted(name for name in changed if name not in generated)
    count = f"{len(written)} files" if set(written) == generated else f"{len(written)} of {len(generated)} files"
    said = f"wrote {count} ({', '.join(written)})" if written else "wrote no file"
    return said + (f"; removed {len(removed)} no longer generated ({', '.join(removed)})" if removed else "")


@cli.command()
@click.argument("fleet_file", metavar="FLEET", type=SPEC_ARG)
@click.option("-o", "--out", "live", type=OUT_DIR, required=True, help="LIVE: the folder of account roots to write.")
@click.option(
    "--check", "drift_only", is_flag=True, help="Write nothing; exit 1 when the shared module or LIVE differs from what FLEET generates."
)
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated, and a folder of another spec or kind (docs/folders.md).")
def fleet(fleet_file: Path, live: Path, drift_only: bool, force: bool) -> None:
    """Generate FLEET's shared module and one Terraform root per account under LIVE, with
    the files the chosen engines read (fleet-matrix.json, root.hcl and terragrunt.hcl,
    workspaces.tf.json; the projects of the repository's one atlantis.yaml). Plans and
    applies are left to those engines."""
    from ..fleet.files import generate_fleet, require_fleet_current, write_fleet

    output = generate_fleet(fleet_file, live)
    if drift_only:
        require_fleet_current(output)
        click.echo(_fleet_up_to_date(live, len(output.fleet.accounts), output.module_dir))
        return
    write_fleet(output, force=force)
    engines = ", ".join(output.fleet.engines) or "none"
    click.echo(f"{output.module_dir}: wrote the shared module ({len(output.module.files)} files)")
    count = len(output.fleet.accounts)
    roots = f"{count} account root" if count == 1 else f"{count} account roots"
    click.echo(f"{live}: wrote {roots} (engines: {engines}; backend: {output.fleet.backend.type})")
    if output.atlantis is not None:
        click.echo(f"{output.atlantis_path}: holds the Atlantis projects of every fleet in the repository")


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
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated, and a folder of another spec or kind (docs/folders.md).")
def release(out: Path, version: str | None, bump: str | None, force: bool) -> None:
    """Release the module in OUT: classify the change since the last release (major, minor,
    patch), check or pick the version, regenerate OUT from its spec, stamp the version, add a
    CHANGELOG.md entry (with upgrade steps when breaking) and write moved blocks.

    The spec, format and engine come from OUT's manifest; the previous release from OUT's
    release record (.ssm-profile-release.json), which only this command writes. Exit 1 when
    --version is lower than the change requires, with one line per reason.
    """
    from ..release.publish import release_module

    result = release_module(out, version=version, bump=bump, force=force, notify=notify)
    changes, record = result.assessment.changes, result.record
    counts = f"{len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed, {len(changes.moved)} moved"
    level = "first release" if changes.first else f"{result.assessment.level.label} change"
    click.echo(f"{out}: released {record.version}: {level} ({counts}; {len(record.moved)} moved blocks)")
    for reason in result.assessment.breaking:
        click.echo(f"  {reason.line()}")


@cli.command()
@click.argument("spec", type=SPEC_ARG)
@click.option("--name", help="Print only this policy's document, as the IAM console takes it.")
@click.option("--account-id", help="The account the role lives in, written into ARNs that name it (required when one does).")
def policy(spec: Path, name: str | None, account_id: str | None) -> None:
    """Print every custom policy SPEC grants (S3, Session Manager, split parts) as JSON.

    Always a list of {"PolicyName", "PolicyDocument"}, in the module's order; `[]` when the
    spec grants none. With --name, the one policy's bare document. A policy naming the account
    (CloudWatch Logs groups, instance ARNs) needs --account-id: exit 2 without it.
    """
    from ..pipeline import spec_policies

    policies = spec_policies(spec, account_id)
    warn(policies.warnings)
    click.echo(json.dumps(policies.document(name) if name is not None else policies.listing(), indent=2))


@cli.command()
@click.option("--partition", "partition_id", help="Only this partition (aws, aws-cn, aws-us-gov).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def regions(partition_id: str | None, as_json: bool) -> None:
    """List the known Regions and which agent bucket sets cover each."""
    import msgspec

    from ..aws.agent_buckets import SET_NAMES, region_coverage

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
    reports every module: exit 1 when any is stale (with the exact command that regenerates
    it), 2 when a folder cannot be searched, a module's spec is missing, its manifest is malformed, or a ROOT holds no
    module (the default . included: checking nothing is never "up to date"). The pre-commit
    hook runs this.
    """
    from ..drift import find_stale, modules

    report = find_stale(roots, progress=lambda i, n, out: click.echo(f"[{i}/{n}] {out}", err=True), on_module=_print_drift)
    report.raise_for_failure()
    click.echo(f"{modules(report.found)} up to date")


def _print_drift(module: ModuleDrift) -> None:
    """One module's line of ``drift``, after its spec's warnings."""
    warn(module.warnings)
    if module.accounts is not None and module.shared_module is not None:  # a fleet: drift sets both
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

    from ..judges.env import install_judges

    start = time.perf_counter()
    venv, built = install_judges(lambda message: click.echo(f"ssm-profile: judges: {message}", err=True), python)
    if built:
        click.echo(f"judges installed in {venv} ({time.perf_counter() - start:.1f} s)")
    else:
        click.echo(f"judges already installed in {venv}")


@judges.command("requirements")
def judges_requirements() -> None:
    """Print the judges' pinned requirements (for a venv you manage yourself, named by $SSM_PROFILE_JUDGES_VENV)."""
    from ..judges.env import requirements_text

    click.echo(requirements_text(), nl=False)


@judges.command("path")
def judges_path() -> None:
    """Print where `check` finds each judge; exit 3 when one is missing."""
    from ..judges import TOOLS, find_judges

    tools = find_judges()
    for name in TOOLS:
        click.echo(f"{name}: {getattr(tools, name)}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from ..spec.load import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def main() -> None:
    """Console entry point."""
    run_console(lambda: sys.exit(run_click(cli, "ssm-profile")))


if __name__ == "__main__":
    main()
