"""Finding the judges' executables and running them as processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import JudgeError
from ..terraform.child_process import run_child, track, untrack
from .env import is_installed, managed_venv

JUDGES_VENV = ".venv-judges"
JUDGES_VENV_VARIABLE = "SSM_PROFILE_JUDGES_VENV"
TOOLS = ("checkov", "parliament", "policy_sentry")
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class JudgeTools:
    """The judges' executables and the environment they run with."""

    checkov: Path
    parliament: Path
    policy_sentry: Path
    env: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def judge_env() -> dict[str, str]:
    """The judges' environment: no update checks, no platform calls, no colour."""
    env = dict(os.environ)
    # checkov asks PyPI for a newer release on every run and caches the answer in ~/.cache.
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    env["BC_SKIP_MAPPING"] = "TRUE"
    env["ANSI_COLORS_DISABLED"] = "1"
    env["NO_COLOR"] = "1"
    env.pop("BC_API_KEY", None)
    return env


def _bin_dirs() -> list[Path]:
    explicit = os.environ.get(JUDGES_VENV_VARIABLE)
    if explicit:
        return [Path(explicit) / "bin"]
    managed = managed_venv()
    here = Path.cwd().resolve()
    # .venv-judges: this repository's own development flow (an older `make install-judges`).
    found = [folder / JUDGES_VENV / "bin" for folder in (here, *here.parents) if (folder / JUDGES_VENV / "bin").is_dir()]
    return ([managed / "bin"] if is_installed(managed) else []) + found[:1] + [Path(sys.executable).parent]


def find_judges() -> JudgeTools:
    """The judges' executables: ``$SSM_PROFILE_JUDGES_VENV``, else the environment
    ``ssm-profile judges install`` manages, else the nearest ``.venv-judges`` in the working
    folder or above it, else beside this interpreter, else on ``PATH``."""
    dirs = _bin_dirs()
    found: dict[str, Path] = {}
    for tool in TOOLS:
        for folder in dirs:
            if (folder / tool).is_file() and os.access(folder / tool, os.X_OK):
                found[tool] = folder / tool
                break
        else:
            on_path = None if os.environ.get(JUDGES_VENV_VARIABLE) else shutil.which(tool)
            if on_path:
                found[tool] = Path(on_path)
    missing = [tool for tool in TOOLS if tool not in found]
    if missing:
        looked = ", ".join(str(d) for d in dirs) + ("" if os.environ.get(JUDGES_VENV_VARIABLE) else f", {managed_venv()}, PATH")
        raise JudgeError(
            f"judges not found: {', '.join(missing)} (looked in {looked}); run `ssm-profile judges install`, "
            f"or set {JUDGES_VENV_VARIABLE} to a venv holding `ssm-profile judges requirements`"
        )
    return JudgeTools(env=judge_env(), **found)


def run_tool(tools: JudgeTools, argv: list[str], *, ok_codes: tuple[int, ...], what: str) -> str:
    try:
        result = run_child(argv, stdin=subprocess.DEVNULL, env=tools.env, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise JudgeError(f"{what} did not finish within {TIMEOUT_SECONDS} s") from None
    except OSError as error:
        raise JudgeError(f"{what} could not start: {error}") from None
    if result.returncode not in ok_codes:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise JudgeError(f"{what} failed (exit {result.returncode}): {tail[0]}")
    return result.stdout


#: What the ``checkov`` console script does, except that it imports checkov first and then
#: waits for its arguments (one JSON list on stdin; an empty line ends it unused).
_WAITING_CHECKOV = """\
import json, sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    from checkov.main import Checkov
    line = sys.stdin.readline()
    sys.exit(Checkov(argv=json.loads(line)).run() if line.strip() else 0)
"""


class WaitingCheckov:
    """A checkov process started early: importing checkov is most of a run's cost (about 4 s
    of CPU against 0.4 s for checking a plan), so it imports while Terraform still plans and
    checks the plan the moment it exists.

    Falls back to a plain ``checkov`` run when the interpreter behind the checkov script
    cannot be read from its first line.
    """

    def __init__(self, tools: JudgeTools) -> None:
        self.tools = tools
        self._process: subprocess.Popen[str] | None = None
        python = _script_interpreter(tools.checkov)
        if python is not None:
            self._process = subprocess.Popen(
                [str(python), "-c", _WAITING_CHECKOV],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",  # a judge echoing a user's Latin-1 file: never a traceback
                env=tools.env,
                process_group=0,  # Ctrl-C and SIGTERM stop it through stop_child
            )
            track(self._process)

    def run(self, argv: list[str], what: str) -> str:
        """Run checkov with ``argv``; return what it printed."""
        process, self._process = self._process, None
        if process is None:
            return run_tool(self.tools, [str(self.tools.checkov), *argv], ok_codes=(0, 1), what=what)
        try:
            out, err = process.communicate(json.dumps(argv) + "\n", timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise JudgeError(f"{what} did not finish within {TIMEOUT_SECONDS} s") from None
        finally:
            untrack(process)
        if process.returncode not in (0, 1):
            tail = (err or out).strip().splitlines()[-1:] or ["no output"]
            raise JudgeError(f"{what} failed (exit {process.returncode}): {tail[0]}")
        return out

    def close(self) -> None:
        """End the process if it was never given its arguments."""
        process, self._process = self._process, None
        if process is not None:
            try:
                process.communicate("\n", timeout=TIMEOUT_SECONDS)
            finally:
                untrack(process)


def _script_interpreter(script: Path) -> Path | None:
    try:
        with open(script, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    interpreter = Path(first[2:].strip()) if first.startswith("#!") and " " not in first[2:].strip() else None
    return interpreter if interpreter is not None and interpreter.is_file() else None
