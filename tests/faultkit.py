"""Helpers of the writer's fault-injection suite (tests/test_writer_faults.py), shared with
tests/fault_namespace.py, which runs inside a private mount namespace.

A case fills OUT with a generated module and thousands of user files, hurts a run of
``ssm-profile generate`` (a signal, a second run, a full or read-only file system ...) and then
checks the writer's contract with :func:`contract_breaches`.
"""

from __future__ import annotations

import atexit
import errno
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import GENERATOR

SPEC_A = 'version = 1\nregions = ["us-east-2"]\n'
SPEC_B = 'version = 1\nregions = ["us-east-2", "eu-west-1"]\n\n[s3]\nbuckets = [{ name = "my-bucket" }]\n'
TRANSIENT = re.compile(r"(^|/)(\.ssm-profile\.lock|\.ssm-profile\.journal|\..+\.ssm-profile-tmp-[0-9a-f]{12})$")


def cli_env() -> dict[str, str]:
    """The environment of an ``ssm-profile`` subprocess: this tree's package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GENERATOR), env.get("PYTHONPATH", "")]))
    return env


def cli_command(*args: str) -> list[str]:
    """The real console entry point (``ssm_profile.__main__:main``, what the ``ssm-profile``
    script runs) as a subprocess command line."""
    return [sys.executable, "-m", "ssm_profile", *args]


def expected_module(spec: Path, out: Path, format: str = "hcl") -> dict[str, bytes]:
    """The files ``ssm-profile generate spec -o out`` writes, generated in-process."""
    from ssm_profile import generate
    from ssm_profile.output.paths import module_source, spec_label

    module = generate(spec, format=format, source=spec_label(spec, out), module_source=module_source(spec, out))
    return {name: text.encode() for name, text in module.files.items()}


_TEMPLATES: dict[int, Path] = {}


def _user_file_set(count: int) -> dict[str, bytes]:
    rng = random.Random(f"user-files-{count}")
    files: dict[str, bytes] = {".terraform.lock.hcl": b"# provider locks\n", "notes.md": "mine, \u00e9t\u00e9\n".encode()}
    for index in range(count - len(files)):
        where = ("", "tests/", ".terraform/providers/", "ci/")[index % 4]
        suffix = ("txt", "tftest.hcl", "bin", "yml")[index % 4]
        files[f"{where}user-{index:05d}.{suffix}"] = rng.randbytes(rng.randrange(0, 64))
    return files


def write_user_files(out: Path, count: int) -> dict[str, bytes]:
    """``count`` user files in ``out``: beside the module, in its tests/ and in .terraform/.

    Hard-linked from a template made once per count (creating thousands of files is slow on a
    busy disk); a file the writer rewrote in place would show in the returned bytes' check all
    the same. Copied where a link cannot cross file systems.
    """
    files = _user_file_set(count)
    if count not in _TEMPLATES:
        template = Path(tempfile.mkdtemp(prefix="ssm-profile-user-files-"))
        atexit.register(shutil.rmtree, template, True)
        _write_files(template, files)
        _TEMPLATES[count] = template
    try:
        for folder in {str(Path(name).parent) for name in files}:
            (out / folder).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(_TEMPLATES[count] / name, out / name)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _write_files(out, files)
    return files


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(out: Path) -> dict[str, bytes]:
    """Every file below ``out`` (symbolic links as ``->target``), by relative POSIX path."""
    found = {}
    for root, _dirs, names in os.walk(out):
        for name in names:
            path = Path(root) / name
            key = path.relative_to(out).as_posix()
            found[key] = b"->" + os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return found


def contract_breaches(
    out: Path, user: dict[str, bytes], modules: dict[str, dict[str, bytes]], *, transient_allowed: bool = False
) -> list[str]:
    """What breaks the contract in ``out``; empty when it holds.

    The contract: OUT is a folder, every user file is byte-identical, and the rest is exactly
    one of ``modules`` (name -> files), complete; no lock, journal or temporary file unless
    ``transient_allowed``. Leftovers of the 0.1.0 writer beside OUT are breaches too.
    """
    if not out.is_dir():
        return [f"{out} is missing"]
    tree = read_tree(out)
    breaches = [f"user file {name} lost" for name in user if name not in tree]
    breaches += [f"user file {name} changed" for name in user if name in tree and tree[name] != user[name]]
    transient = sorted(name for name in tree if TRANSIENT.search(name))
    if transient and not transient_allowed:
        breaches.append(f"leftovers: {', '.join(transient[:4])}")
    rest = {name: data for name, data in tree.items() if name not in user and name not in transient}
    if not any(rest == files for files in modules.values()):
        closest = min(modules, key=lambda m: len(set(rest.items()) ^ set(modules[m].items())))
        wrong = sorted(n for n in set(rest) | set(modules[closest]) if rest.get(n) != modules[closest].get(n))
        breaches.append(f"neither module complete (closest {closest}; differs in {', '.join(wrong[:5])})")
    beside = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    if beside:
        breaches.append(f"leftovers beside OUT: {', '.join(sorted(beside))}")
    return breaches


def one_line_breach(result: subprocess.CompletedProcess[str], codes: tuple[int, ...], contains: str = "") -> list[str]:
    """Exit code and stderr checks: an allowed code, no traceback, one line when it failed."""
    breaches = []
    if result.returncode not in codes:
        breaches.append(f"exit {result.returncode}, expected one of {codes}: {result.stderr[-300:]!r}")
    if "Traceback" in result.stderr:
        breaches.append(f"traceback: {result.stderr[-300:]!r}")
    errors = [line for line in result.stderr.splitlines() if line.startswith("ssm-profile: error") or line.startswith("ssm-profile: interr") or line.startswith("ssm-profile: termin")]
    # 0: finished; negative: killed by the signal before the CLI's handlers were in place or
    # after they were gone (interpreter start-up and exit), with nothing to say
    if result.returncode not in (0, -2, -9, -15) and (len(errors) != 1 or contains not in errors[0]):
        breaches.append(f"not one error line containing {contains!r}: {result.stderr[-300:]!r}")
    return breaches


def module_state(out: Path, user: dict[str, bytes], modules: dict[str, dict[str, bytes]]) -> str:
    """Which of ``modules`` OUT holds beside the user files: its name, or ``mixed``."""
    rest = {n: d for n, d in read_tree(out).items() if n not in user and not TRANSIENT.search(n)}
    return next((name for name, files in modules.items() if rest == files), "mixed")
