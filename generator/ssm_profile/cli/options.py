"""What the ``ssm-profile`` commands share: argument types, the --providers option, the
Terraform runner with progress, and the lines a command prints for warnings and failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import one_line

if TYPE_CHECKING:  # imported when a Terraform command runs, not at start-up
    from ..terraform.runner import TerraformRunner


class Folder(click.Path):
    """A folder argument; an empty string is refused (pathlib would read it as the current folder)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path names no folder; give the module folder (. for the current one)", param, ctx)
        return super().convert(value, param, ctx)


# No dir_okay/exists checks: load_spec reports a missing file or a folder as one line naming it.
SPEC_ARG = click.Path(path_type=Path)
OUT_DIR = Folder(file_okay=False, path_type=Path)

PROVIDERS_OPTION = click.option(
    "--providers",
    type=click.Choice(["auto", "terraform", "mirror"]),
    default=None,
    help="Where Terraform installs hashicorp/aws from: your Terraform configuration (terraform), a local "
    "filesystem mirror ssm-profile finds (mirror, offline), or the first, falling back to the second (auto).  "
    "[default: $SSM_PROFILE_PROVIDERS, else auto]",
)


def given_runner() -> Any:
    """The :class:`~ssm_profile.terraform.runner.TerraformRunner` the caller handed the command
    (``cli.main(obj={"runner": runner})``, click's way to pass objects in; tests pass a fake),
    or None."""
    context = click.get_current_context(silent=True)
    obj = context.find_root().obj if context is not None else None
    return obj.get("runner") if isinstance(obj, dict) else None


def terraform_runner(providers: str | None) -> TerraformRunner:
    """The Terraform runner of a command: the one handed in, else the asked provider source
    with step progress on stderr."""
    from ..terraform.progress import StepProgress
    from ..terraform.runner import default_runner

    return given_runner() or default_runner(providers=providers, progress=StepProgress())


def warn(warnings: tuple[str, ...]) -> None:
    """Print the pure core's warnings (a valid spec worth a word) on stderr, one line each."""
    for warning in warnings:
        click.echo(f"ssm-profile: warning: {warning}", err=True)


def notify(message: str) -> None:
    """Print the writer's word about what it recovered or removed on stderr, as one line."""
    click.echo(f"ssm-profile: {one_line(message)}", err=True)


#: The module folders of validate, plan, check and test: each a module, or a folder of modules.
OUTS_ARG = click.argument("outs", metavar="OUT...", nargs=-1, required=True, type=OUT_DIR)


def module_folders(outs: tuple[Path, ...], fleets: bool = False) -> list[Path]:
    """The modules OUT... names: each a module folder, or a folder of modules (and fleet LIVE folders)."""
    from ..output.discovery import find_modules

    return find_modules(outs, fleets=fleets)


def say_failed(result: Any, of: int) -> None:
    """One line for a module that failed among several (one module's error is the command's)."""
    if of > 1:
        text = one_line(str(result.error)).removeprefix(f"{result.module_dir}: ")
        click.echo(f"{result.module_dir}: FAILED: {text}")


def raise_worst(results: Any) -> None:
    """Raise the worst error among the per-module results (its exit code is the command's)."""
    from ..terraform.module_runs import worst_error

    error = worst_error(results)
    if error is not None:
        raise error
