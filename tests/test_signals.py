"""Ctrl-C and SIGTERM from the user's side: a real ``ssm-profile`` process, a real signal.

The contract (docs/folders.md): Ctrl-C ends a run with 130, SIGTERM with 143, one line on
stderr and never a traceback, at any moment from start-up to exit; a Terraform or pip child
running at that moment is stopped with it, and SIGTERM ends the run within 2 s. A process the
signal reaches before Python has installed any handler ends by the signal itself (-2, -15 to
``subprocess``; a shell shows 130, 143): accepted, it prints nothing.

The children are fake executables (a shell script as ``$TERRAFORM``, as ``--python`` of
``judges install``) that record their process id and sleep: deterministic and fast.
"""

from __future__ import annotations

import collections
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PACKAGE, invoke
from faultkit import cli_env

SEED = 20261206
EARLY_RUNS = 24
#: Python's start-up and the CLI's imports take ~0.1 s on an idle machine, over 0.3 s on a busy
#: one; the signal comes within this, or within 90 % of a whole run when that is shorter.
EARLY_WINDOW = 0.5
CODES = {signal.SIGINT: (130, -signal.SIGINT), signal.SIGTERM: (143, -signal.SIGTERM)}
LINES = {signal.SIGINT: "ssm-profile: interrupted", signal.SIGTERM: "ssm-profile: terminated"}
SPEC = 'version = 1\nregions = ["us-east-2"]\n'


def ssm_profile(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The console entry point (``python -m ssm_profile``, what the ``ssm-profile`` script runs)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ssm_profile", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or cli_env()
    )


#: The line of ssm_profile/__init__.py that installs the first handlers: a traceback ending
#: at or before it comes from Python loading the package, before any handler could exist.
HANDLERS_LINE = next(
    number for number, line in enumerate((PACKAGE / "__init__.py").read_text().splitlines(), 1)
    if line.strip() == "exit_on_signals()"
)


def before_our_code(stderr: str) -> bool:
    """Whether a traceback is Python's own, from its start-up before ssm-profile's first handler
    (``site``, ``runpy``, the import of the package itself): nothing a program can handle there."""
    if "Traceback" not in stderr:
        return False
    for path, line in re.findall(r'File "([^"]+)", line (\d+)', stderr):
        if "click" in path or ("ssm_profile" in path and not (path.endswith("ssm_profile/__init__.py") and int(line) <= HANDLERS_LINE)):
            return False
    return True


def breaches(process: subprocess.Popen[str], signum: int, stderr: str) -> list[str]:
    """What breaks the contract in how ``process`` ended after ``signum`` (or ran to its end)."""
    found = []
    if before_our_code(stderr):
        return []
    if process.returncode not in (0, *CODES[signum]):
        found.append(f"exit {process.returncode}")
    if "Traceback" in stderr:
        found.append("a traceback")
    lines = stderr.splitlines()
    if process.returncode == CODES[signum][0] and lines[-1:] != [LINES[signum]]:
        found.append(f"stderr does not end with {LINES[signum]!r}")
    return [f"{' and '.join(found)}: {stderr[-600:]!r}"] if found else []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_in_the_first_moments_of_a_command_is_one_line_and_its_code(tmp_path: Path, signum: int) -> None:
    """A signal at a random moment of a run's first ``EARLY_WINDOW`` seconds: Python's start-up,
    the CLI's imports (~100 ms when the machine is idle), the command, or after it."""
    (tmp_path / "spec.toml").write_text(SPEC)
    rng = random.Random(f"{SEED}-{signum}")
    failures: list[str] = []
    outcomes = collections.Counter[str]()
    started = time.monotonic()
    whole = ssm_profile("generate", str(tmp_path / "spec.toml"), "-o", str(tmp_path / "whole"))
    _, stderr = whole.communicate(timeout=60)
    assert whole.returncode == 0, stderr
    window = min(EARLY_WINDOW, 0.9 * (time.monotonic() - started))  # the signals land inside a run, on any machine
    for index in range(EARLY_RUNS):
        process = ssm_profile("generate", str(tmp_path / "spec.toml"), "-o", str(tmp_path / f"out-{index}"))
        time.sleep(rng.uniform(0, window))
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        failures += breaches(process, signum, stderr)
        outcome = {0: "finished", CODES[signum][0]: "stopped", CODES[signum][1]: "ended by the signal, silent"}.get(process.returncode, "other")
        outcomes["traceback in Python's start-up" if before_our_code(stderr) else outcome] += 1
    print(f"{signal.Signals(signum).name}: {EARLY_RUNS} runs, signal within {window:.2f} s: {dict(outcomes)}")
    assert not failures, "\n".join(failures)
    assert outcomes["stopped"] >= EARLY_RUNS // 4, outcomes  # the signals did land inside the runs


FAKE_CHILD = """#!/bin/sh
# A child that starts, says so, and takes its time (as terraform init, or pip, can) when its
# command is one of $FAKE_SLOW; else it answers at once.
{ignore_term}
case " $FAKE_SLOW " in
  *" $1 "*) echo $$ > "{pids}/$1.pid"; exec sleep 30;;
esac
case "$1" in
  version) echo '{{"terraform_version": "1.11.0"}}';;
esac
exit 0
"""


def fake_child(tmp_path: Path, ignore_term: bool) -> tuple[Path, Path]:
    """The fake executable, and the folder where each slow command writes its process id."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "fake-child"
    script.write_text(FAKE_CHILD.format(pids=pids, ignore_term="trap '' TERM INT" if ignore_term else ""))
    script.chmod(0o755)
    return script, pids


def wait_for(path: Path, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while not (path.exists() and path.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.02)
    return int(path.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: its parent (the fake's sh) has not reaped it yet.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:  # reaped between the two looks
        return False


@pytest.mark.parametrize(
    "signum, ignore_term, command, slow",
    # Not Ctrl-C with a child ignoring it: an interrupted Terraform gets 15 s to stop its providers.
    [
        (signal.SIGINT, False, ("validate", "mod"), ("init",)),
        (signal.SIGTERM, False, ("validate", "mod"), ("init",)),
        (signal.SIGTERM, True, ("validate", "mod"), ("init",)),
        # validate runs in a worker thread beside plan: the signal reaches the main thread only
        (signal.SIGTERM, False, ("plan", "mod", "--offline"), ("validate", "plan")),
        (signal.SIGINT, False, ("plan", "mod", "--offline"), ("validate", "plan")),
    ],
    ids=["SIGINT-init", "SIGTERM-init", "SIGTERM-init-ignoring-it", "SIGTERM-validate-beside-plan", "SIGINT-validate-beside-plan"],
)
def test_a_signal_while_terraform_runs_stops_it_and_the_run(
    tmp_path: Path, signum: int, ignore_term: bool, command: tuple[str, ...], slow: tuple[str, ...]
) -> None:
    """A fake $TERRAFORM whose ``slow`` commands wait: the signal reaches every child's process
    group; the run ends within 2 s (SIGTERM, even for a child that ignores it) and no child outlives it."""
    assert invoke("generate", str(_spec(tmp_path)), "-o", str(tmp_path / "mod")).exit_code == 0
    script, pids = fake_child(tmp_path, ignore_term)
    env = {**cli_env(), "TERRAFORM": str(script), "SSM_PROFILE_PROVIDERS": "terraform", "FAKE_SLOW": " ".join(slow)}
    process = ssm_profile(*(str(tmp_path / part) if part == "mod" else part for part in command), env=env)
    children = [wait_for(pids / f"{name}.pid", process) for name in slow]
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    took = time.monotonic() - sent
    assert breaches(process, signum, stderr) == [] and process.returncode == CODES[signum][0], stderr
    assert took < 2.0, f"{signal.Signals(signum).name} took {took:.2f} s to end the run"
    # The run has ended; the children it killed are gone moments later (a busy machine delivers
    # SIGKILL and removes the process a little after): a child still there after 2 s outlived it.
    deadline = time.monotonic() + 2.0
    while [pid for pid in children if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if alive(pid)], "a Terraform child outlived ssm-profile"


def test_sigterm_while_pip_installs_the_judges_stops_within_2_s(tmp_path: Path) -> None:
    """``judges install --python FAKE``: the fake's ``-m venv`` sleeps; SIGTERM stops it and the run."""
    script, pids = fake_child(tmp_path, ignore_term=False)
    env = {**cli_env(), "SSM_PROFILE_CACHE": str(tmp_path / "cache"), "FAKE_SLOW": "-m"}
    process = ssm_profile("judges", "install", "--python", str(script), env=env)
    child = wait_for(pids / "-m.pid", process)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    took = time.monotonic() - sent
    assert process.returncode == 143 and "Traceback" not in stderr and stderr.splitlines()[-1] == "ssm-profile: terminated", stderr
    assert took < 2.0, f"SIGTERM took {took:.2f} s"
    time.sleep(0.1)
    assert not alive(child)
    assert not list((tmp_path / "cache" / "judges").glob("*.build-*")), "the unfinished build was left behind"


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    return spec
