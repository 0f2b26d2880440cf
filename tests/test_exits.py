"""exits: how a command ends (one line on stderr, an exit code), whatever it raised."""

from __future__ import annotations

import errno

import click
import pytest
from click.testing import CliRunner

from ssm_profile.cli.exits import ErrorGroup, Terminated, os_error_text
from ssm_profile.errors import CheckFailed, OutputError


def test_an_os_error_names_its_paths_and_reason() -> None:
    assert os_error_text(PermissionError(errno.EACCES, "Permission denied", "out/main.tf")) == "out/main.tf: Permission denied"
    renamed = OSError(errno.EXDEV, "Invalid cross-device link", "a.tmp", None, "a")
    assert os_error_text(renamed) == "a.tmp -> a: Invalid cross-device link"
    assert os_error_text(OSError("disk on fire")) == "disk on fire"
    assert os_error_text(OSError()) == "OSError"


@pytest.mark.parametrize(
    "raised, code, stderr",
    [
        (OutputError("out: locked\nby another run"), 2, "ssm-profile: error: out: locked\\nby another run\n"),
        (CheckFailed("2 findings\n  one\n  two"), 1, "ssm-profile: error: 2 findings\n  one\n  two\n"),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "spec.toml"), 2, "ssm-profile: error: spec.toml: No such file or directory\n"),
        (KeyboardInterrupt(), 130, "ssm-profile: interrupted\n"),
        (Terminated(), 143, "ssm-profile: terminated\n"),
    ],
)
def test_every_failure_is_one_line_and_an_exit_code(raised: BaseException, code: int, stderr: str) -> None:
    @click.group(cls=ErrorGroup)
    def group() -> None:
        pass

    @group.command()
    def fail() -> None:
        raise raised

    result = CliRunner().invoke(group, ["fail"])
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr)


def test_ctrl_c_while_click_parses_is_ctrl_c_not_aborted() -> None:
    """Click turns a KeyboardInterrupt in its own parsing into "Aborted!" and exit 1 (found by
    the early-signal test in a fresh-clone CI run); run_click raises it again for run_console."""
    import click
    import pytest

    from ssm_profile.cli.exits import run_click

    def interrupt(ctx: click.Context, param: click.Parameter, value: object) -> object:
        raise KeyboardInterrupt

    @click.command()
    @click.option("--x", callback=interrupt, expose_value=False, is_eager=True, default="x")
    def command() -> None:
        raise AssertionError("the callback interrupts parsing first")

    with pytest.raises(KeyboardInterrupt):
        run_click(command, "ssm-profile", [])

    @click.command()
    @click.argument("n", type=int)
    def usage(n: int) -> None:
        raise AssertionError("not reached")

    assert run_click(usage, "ssm-profile", ["not-a-number"]) == 2  # a usage error is click's exit 2, as in standalone mode
