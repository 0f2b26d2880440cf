"""``ssm-profile imports`` and ``ssm-profile spec-from``: adopting roles made by hand.

Thin: each parses options, calls :mod:`ssm_profile.adopt` and prints or writes what it returns.
A file is written whole or not at all (a temporary file beside it, then renamed over it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from .options import OUT_DIR, SPEC_ARG


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the new one, never half."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        write_whole(output, text)


@click.command("imports")
@click.argument("out", type=OUT_DIR)
@click.option("--account-id", "account_id", help="The account being adopted (12 digits); default with --from: the account FILE describes.")
@click.option("--module-address", default="module.ssm_profile", show_default=True, help="How the root calls the module.")
@click.option("--vpc-endpoint-ids", type=SPEC_ARG, help='JSON of existing VPC endpoint IDs by Region and service: {"us-east-2": {"ssm": "vpce-..."}}.')
@click.option("--from", "details_file", type=SPEC_ARG, help="JSON of `aws iam get-account-authorization-details`: check the spec against it, import only what exists.")
@click.option("--removed", is_flag=True, help="Instead of imports: removed blocks (Terraform >= 1.7) that stop managing OUT's Default Host Management without turning it off.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (e.g. the root's imports.tf).  [default: stdout]")
def imports(
    out: Path, account_id: str | None, module_address: str, vpc_endpoint_ids: Path | None, details_file: Path | None, removed: bool, output: Path | None
) -> None:
    """Write import blocks that hand existing IAM roles, instance profiles, policies, Default Host
    Management settings and VPC endpoints to the module in OUT.

    The blocks belong in the root module that calls OUT (Terraform before 1.16 allows import
    blocks only there). With --from, each difference between the spec and what exists is one
    line on stderr; exit 1, writing nothing, when the plan would replace or destroy something.
    """
    from ..adopt import adoption_imports
    from ..errors import CheckFailed

    result = adoption_imports(
        out, account_id=account_id, module_address=module_address, vpc_endpoint_ids=vpc_endpoint_ids, details_file=details_file, removed=removed
    )
    if result.blocked:
        lines = [d.line() for d in result.differences if d.replaces or d.fails]
        raise CheckFailed(f"{out}: the plan would replace what exists, or fail ({len(lines)} differences); fix the spec:\n" + "\n".join(lines))
    for difference in result.differences:
        click.echo(f"ssm-profile: {difference.line()}", err=True)
    _emit(result.text, output)
    if output is not None:
        blocks = "removed" if removed else "import"
        click.echo(f"{output}: wrote {result.text.count(f'{blocks} {{')} {blocks} blocks for {module_address}", err=True)


@click.command("spec-from")
@click.argument("details_file", metavar="FILE", type=SPEC_ARG)
@click.option("--role", "role", required=True, help="The existing role to reproduce.")
@click.option("--region", "regions", multiple=True, help="A Region of the spec (repeat for more).  [default: us-east-1, with a comment]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Spec file to write (TOML).  [default: stdout]")
def spec_from(details_file: Path, role: str, regions: tuple[str, ...], output: Path | None) -> None:
    """Write a spec (TOML) that reproduces the existing role ROLE, read from FILE: the JSON of
    `aws iam get-account-authorization-details`. What cannot be mapped is written as a comment."""
    from ..adopt import spec_from as spec_text

    _emit(spec_text(details_file, role, regions), output)
