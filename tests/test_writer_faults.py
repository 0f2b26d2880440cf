"""Fault injection on the writer: nothing a user put in OUT is ever lost, whatever happens to a run.

Every case starts from OUT holding module A (or nothing) and thousands of user files, hurts a real
``ssm-profile generate`` run that writes module B — a signal at a random moment, a second run,
a symbolic link, a read-only folder, a full or read-only file system (a tmpfs in a private mount
namespace), a killed run of the 0.1.0 writer, a malformed manifest — and then asserts:
user files byte-identical; OUT present holding exactly the complete module A or B; no lock,
journal or temporary file left after the next run; the exit code and one line on stderr.
Randomness is seeded (SEED). The tally of cases tried and held is printed at the end.
A run writing module B over A passes ``--force``: B comes from another spec, which a run without
it refuses (docs/folders.md), and that refusal is not what these cases hurt.
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, invoke
from faultkit import (
    SPEC_A,
    SPEC_B,
    cli_command,
    cli_env,
    contract_breaches,
    expected_module,
    module_state,
    one_line_breach,
    read_tree,
    write_user_files,
)
from ssm_profile.output.manifest import MANIFEST_FILE
from ssm_profile.output.writer import finish_interrupted_write

pytestmark = pytest.mark.slow

SEED = 20261129
USER_FILES = 2000
CASES_PER_SIGNAL = 10
TALLY = {"tried": 0, "held": 0}
OUTCOMES: collections.Counter[str] = collections.Counter()  # where each signal landed

# A real `ssm-profile generate` whose file system calls are slowed once the writer starts, so a
# signal at a random delay lands inside the write; it prints a mark when the write starts.
SLOW_CLI = """
import os, random, sys, time
rng = random.Random(os.environ["FAULT_SEED"])
import ssm_profile.output.writer as writer
real = writer.update_module
def slowed(function):
    def call(*args, **kwargs):
        time.sleep(rng.uniform(0, 0.008))
        return function(*args, **kwargs)
    return call
def update_module(*args, **kwargs):
    os.write, os.fsync, os.replace = slowed(os.write), slowed(os.fsync), slowed(os.replace)
    sys.stderr.write("FAULT-MARK\\n"); sys.stderr.flush()
    return real(*args, **kwargs)
writer.update_module = update_module
from ssm_profile.cli.main import main
sys.argv[0] = "ssm-profile"
main()
"""


@pytest.fixture(scope="module", autouse=True)
def tally(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    yield TALLY
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    line = f"writer faults: {TALLY['held']} of {TALLY['tried']} cases held the contract in {time.perf_counter() - start:.1f} s (seed {SEED})"
    if OUTCOMES:
        line += "; signals: " + ", ".join(f"{n} {k}" for k, n in sorted(OUTCOMES.items()))
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print(f"\n{line}")


def record(breaches: list[str], failures: list[str], case: str) -> None:
    TALLY["tried"] += 1
    if breaches:
        failures.append(f"{case}: {'; '.join(breaches)}")
    else:
        TALLY["held"] += 1


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Specs A and B, and the modules they generate into ``lab/<case>/out`` (same relative path)."""
    root = tmp_path_factory.mktemp("faults")
    (root / "a.toml").write_text(SPEC_A)
    (root / "b.toml").write_text(SPEC_B)
    return root


def modules_for(lab: Path, out: Path) -> dict[str, dict[str, bytes]]:
    """Modules A and B as `generate -o out` writes them (the README's usage names OUT)."""
    return {"A": expected_module(lab / "a.toml", out), "B": expected_module(lab / "b.toml", out)}


def start_case(lab: Path, name: str, with_module: bool = True, count: int = USER_FILES) -> tuple[Path, dict[str, bytes]]:
    """A new OUT holding ``count`` user files, and module A unless ``with_module`` is false."""
    out = lab / name / "out"
    out.mkdir(parents=True)
    user = write_user_files(out, count)
    if with_module:
        reset(lab, out, "a.toml")
    return out, user


def reset(lab: Path, out: Path, spec: str | None) -> None:
    """Put OUT back to module A (``a.toml``), or to no module at all (None), keeping the user files."""
    if spec is not None:
        result = invoke("generate", str(lab / spec), "-o", str(out), "--force")
        assert result.exit_code == 0, result.output
        return
    modules = modules_for(lab, out)
    for name in {**modules["A"], **modules["B"]}:
        (out / name).unlink(missing_ok=True)


def next_run(lab: Path, out: Path) -> list[str]:
    """The next run generates B; it must succeed, clean up, and leave B complete."""
    result = invoke("generate", str(lab / "b.toml"), "-o", str(out), "--force")
    return [] if result.exit_code == 0 and result.exception is None else [f"next run: exit {result.exit_code} {result.output!r}"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_signal_at_a_random_moment_of_the_write(lab: Path, signum: int) -> None:
    rng = random.Random(f"{SEED}-{signum}")
    # -2 and -15: the signal came as the interpreter exited after a finished run (Python has
    # restored the default handlers by then); the module check below tells which it was.
    codes = {signal.SIGINT: (0, 130, -2), signal.SIGTERM: (0, 143, -15), signal.SIGKILL: (0, -9)}[signum]
    failures: list[str] = []
    out, user = start_case(lab, f"signal-{signum}")
    modules = modules_for(lab, out)
    for index in range(CASES_PER_SIGNAL):
        if index:
            reset(lab, out, "a.toml")
        child = subprocess.Popen(
            [sys.executable, "-c", SLOW_CLI, "generate", str(lab / "b.toml"), "-o", str(out), "--force"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**cli_env(), "FAULT_SEED": str(rng.random())},
        )
        assert child.stderr is not None
        mark = child.stderr.readline()
        time.sleep(rng.uniform(0, 0.4))
        child.send_signal(signum)
        stderr = child.stderr.read()
        child.stderr.close()
        child.wait(30)
        result = subprocess.CompletedProcess(child.args, child.returncode, "", stderr)
        breaches = [] if mark == "FAULT-MARK\n" else [f"no mark: {mark!r}"]
        breaches += one_line_breach(result, codes, "")
        state = module_state(out, user, modules)
        OUTCOMES[f"{signal.Signals(signum).name} left {'old' if state == 'A' else 'new' if state == 'B' else 'a committed journal' if (out / '.ssm-profile.journal').exists() else 'mixed!'}"] += 1
        if signum == signal.SIGKILL:  # no chance to clean up: the next run does it
            breaches += [b for b in contract_breaches(out, user, modules, transient_allowed=True) if "user file" in b or "missing" in b]
            finish_interrupted_write(out)
        breaches += contract_breaches(out, user, modules)
        breaches += next_run(lab, out) + contract_breaches(out, user, {"B": modules["B"]})
        record(breaches, failures, f"{signal.Signals(signum).name} case {index}")
    assert not failures, "\n".join(failures)


# A real `ssm-profile generate` that stops after the K-th rename of the commit (0: right after the
# journal is committed) and waits there to be killed.
STOP_IN_COMMIT = """
import os, sys, time
import ssm_profile.output.transaction as outfolder
import ssm_profile.output.writer as writer
stop_after = int(os.environ["FAULT_STOP_AFTER"])
real_replace, real_apply = os.replace, writer.apply_journal
def apply_journal(out, journal):
    done = [0]
    def replace(source, target):
        if done[0] == stop_after:
            sys.stderr.write("FAULT-MARK\\n"); sys.stderr.flush(); time.sleep(60)
        real_replace(source, target)
        done[0] += 1
    outfolder.os.replace = replace
    return real_apply(out, journal)
writer.apply_journal = apply_journal
from ssm_profile.cli.main import main
sys.argv[0] = "ssm-profile"
main()
"""


def test_sigkill_at_each_rename_of_the_commit(lab: Path) -> None:
    """Deterministic: killed after the journal's commit and after each rename that follows it.
    The module is then mixed until the next run completes it from the journal."""
    failures: list[str] = []
    out, user = start_case(lab, "commit")
    modules = modules_for(lab, out)
    renames = len(modules["B"])  # at most one rename per file
    for stop_after in range(0, renames):
        if stop_after:
            reset(lab, out, "a.toml")
        child = subprocess.Popen(
            [sys.executable, "-c", STOP_IN_COMMIT, "generate", str(lab / "b.toml"), "-o", str(out), "--force"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            env={**cli_env(), "FAULT_STOP_AFTER": str(stop_after)},
        )
        assert child.stderr is not None
        mark = child.stderr.readline()
        child.kill()
        child.stderr.close()
        child.wait(30)
        if mark != "FAULT-MARK\n":  # fewer renames than files: some were unchanged
            break
        breaches = [b for b in contract_breaches(out, user, modules, transient_allowed=True) if "user file" in b or "missing" in b]
        breaches += [] if (out / ".ssm-profile.journal").is_file() else ["no journal after the commit"]
        notices: list[str] = []
        finish_interrupted_write(out, notices.append)
        breaches += contract_breaches(out, user, {"B": modules["B"]})
        breaches += [] if any("completed the write" in n for n in notices) else [f"no notice: {notices}"]
        record(breaches, failures, f"SIGKILL after rename {stop_after} of the commit")
    assert TALLY["tried"] and not failures, "\n".join(failures)


def test_kill_at_any_moment_of_an_unmodified_run(lab: Path) -> None:
    """The console entry point as shipped; SIGKILL or SIGTERM anywhere from start-up to exit."""
    rng = random.Random(f"{SEED}-anywhere")
    failures: list[str] = []
    out, user = start_case(lab, "anywhere")
    modules = modules_for(lab, out)
    for index in range(10):
        if index:
            reset(lab, out, "a.toml")
        signum = rng.choice([signal.SIGKILL, signal.SIGTERM])
        child = subprocess.Popen(
            cli_command("generate", str(lab / "b.toml"), "-o", str(out), "--force"),
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env(),
        )
        time.sleep(rng.uniform(0, 0.6))
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
        result = subprocess.CompletedProcess(child.args, child.returncode, "", stderr)
        breaches = one_line_breach(result, (0, 143, -15, -9), "")
        if child.returncode == -9:
            finish_interrupted_write(out)
        breaches += contract_breaches(out, user, modules)
        breaches += next_run(lab, out) + contract_breaches(out, user, {"B": modules["B"]})
        record(breaches, failures, f"unmodified run, {signal.Signals(signum).name} case {index}")
    assert not failures, "\n".join(failures)


def test_concurrent_runs_on_one_out(lab: Path) -> None:
    failures: list[str] = []
    out, user = start_case(lab, "concurrent", with_module=False)
    modules = modules_for(lab, out)
    for index in range(8):
        reset(lab, out, "a.toml" if index % 2 else None)
        specs = ["a.toml", "b.toml"] + (["b.toml"] if index >= 6 else [])
        children = [
            subprocess.Popen(cli_command("generate", str(lab / spec), "-o", str(out), "--force"), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env())
            for spec in specs
        ]
        breaches = []
        for child in children:
            _, stderr = child.communicate(timeout=60)
            breaches += one_line_breach(subprocess.CompletedProcess(child.args, child.returncode, "", stderr), (0, 2), "another ssm-profile run holds OUT")
        breaches += contract_breaches(out, user, modules)
        record(breaches, failures, f"{len(specs)} concurrent runs, case {index}")
    assert not failures, "\n".join(failures)


def test_symlinked_out(lab: Path) -> None:
    failures: list[str] = []
    for kind in ("relative", "absolute", "chained"):
        target, user = start_case(lab, f"link-{kind}")
        modules = modules_for(lab, target)
        link = target.parent / "link"
        link.symlink_to("out" if kind == "relative" else target)
        if kind == "chained":
            (target.parent / "link2").symlink_to("link")
            link = target.parent / "link2"
        before = os.readlink(link)
        result = subprocess.run(cli_command("generate", str(lab / "b.toml"), "-o", str(link), "--force"), capture_output=True, text=True, env=cli_env())
        breaches = one_line_breach(result, (0,))
        breaches += [] if link.is_symlink() and os.readlink(link) == before else ["the link was replaced"]
        breaches += contract_breaches(target, user, {"B": modules["B"]})
        record(breaches, failures, f"{kind} link")
    for kind, make in (("dangling", lambda link: link.symlink_to("nowhere")), ("loop", lambda link: link.symlink_to(link.name))):
        folder = lab / f"link-{kind}"
        folder.mkdir()
        link = folder / "out"
        make(link)
        result = subprocess.run(cli_command("generate", str(lab / "b.toml"), "-o", str(link), "--force"), capture_output=True, text=True, env=cli_env())
        breaches = one_line_breach(result, (2,), "which does not exist or cannot be followed")
        breaches += [] if sorted(p.name for p in folder.iterdir()) == ["out"] and link.is_symlink() else ["something was written"]
        record(breaches, failures, f"{kind} link")
    assert not failures, "\n".join(failures)


def _world_readable_folder() -> Path:
    """A folder other users can reach (pytest's base folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="ssm-profile-faults-"))
    folder.chmod(0o755)
    return folder


def test_permission_and_os_limits(lab: Path) -> None:
    """As an unprivileged user: OUT not writable, tests/ not writable, a generated file unreadable;
    a file size limit; a name too long. Each is exit 2, one line with the path and the reason."""
    failures: list[str] = []
    base = _world_readable_folder()
    try:
        shutil.copy(lab / "a.toml", base / "a.toml")
        shutil.copy(lab / "b.toml", base / "b.toml")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        cases = {
            "OUT not writable": (lambda out: None, "Permission denied"),
            "tests/ not writable": (lambda out: os.chown(out, 65534, 65534), "Permission denied"),
            "a generated file unreadable": (lambda out: (os.chown(out, 65534, 65534), (out / "main.tf").chmod(0o200)), "Permission denied"),
        }
        for name, (prepare, reason) in cases.items():
            out = base / name.replace(" ", "-") / "out"
            out.mkdir(parents=True, mode=0o755)
            out.parent.chmod(0o755)
            assert invoke("generate", str(base / "a.toml"), "-o", str(out)).exit_code == 0
            user = write_user_files(out, USER_FILES)
            for folder, _dirs, _files in os.walk(out):
                os.chmod(folder, 0o755)
            prepare(out)
            result = subprocess.run(nobody + cli_command("generate", str(base / "b.toml"), "-o", str(out), "--force"), capture_output=True, text=True, env=cli_env())
            breaches = one_line_breach(result, (2,), reason)
            breaches += [] if str(out) in result.stderr else [f"the message does not name the path: {result.stderr!r}"]
            expected_a = expected_module(base / "a.toml", out)
            breaches += contract_breaches(out, user, {"A": expected_a})
            record(breaches, failures, name)
        out = base / "fsize" / "out"
        out.mkdir(parents=True)
        assert invoke("generate", str(base / "a.toml"), "-o", str(out)).exit_code == 0
        user = write_user_files(out, 50)
        import resource

        result = subprocess.run(
            cli_command("generate", str(base / "b.toml"), "-o", str(out), "--force"), capture_output=True, text=True, env=cli_env(),
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500)),
        )
        breaches = one_line_breach(result, (2,), "File too large") + contract_breaches(out, user, {"A": expected_module(base / "a.toml", out)})
        record(breaches, failures, "file size limit")
        long = base / ("x" * 300) / "out"
        result = subprocess.run(cli_command("generate", str(base / "b.toml"), "-o", str(long)), capture_output=True, text=True, env=cli_env())
        record(one_line_breach(result, (2,), "File name too long"), failures, "name too long")
    finally:
        shutil.rmtree(base)
    assert not failures, "\n".join(failures)


def test_full_read_only_and_mounted_file_systems(lab: Path) -> None:
    """Run tests/fault_namespace.py in a private mount namespace (root only; root in CI too)."""
    assert os.geteuid() == 0 and shutil.which("unshare"), "the fault suite runs as root, as in CI"
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", sys.executable, str(ROOT / "tests" / "fault_namespace.py"), str(lab)],
        capture_output=True, text=True, env=cli_env(), timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cases = json.loads(result.stdout)
    failures: list[str] = []
    for case in cases:
        record(case["breaches"], failures, case["name"])
    assert len(cases) >= 20 and not failures, "\n".join(failures)


def test_killed_runs_of_the_0_1_0_writer_are_recovered(lab: Path) -> None:
    """The old writer, killed at random points of its swap, left OUT missing or user files in
    its staging folders; the next run puts every file back and removes those folders."""
    rng = random.Random(f"{SEED}-old-writer")
    failures: list[str] = []
    runner = (
        "import os, sys, time, random\n"
        f"sys.path.insert(0, {str(ROOT / 'tests' / 'fixtures')!r})\n"
        "import writer_0_1_0 as old\n"
        "from ssm_profile import generate\n"
        "rng = random.Random(sys.argv[3])\n"
        "module = generate(sys.argv[1], source=sys.argv[4], module_source=sys.argv[5])\n"
        "real = os.rename\n"
        "def slow(a, b):\n"
        "    time.sleep(rng.uniform(0, 0.002)); real(a, b)\n"
        "os.rename = slow\n"
        "sys.stderr.write('FAULT-MARK\\n'); sys.stderr.flush()\n"
        "old.write_module(module, sys.argv[2])\n"
    )
    from ssm_profile.output.paths import module_source, spec_label

    out, user = start_case(lab, "old-writer", count=300)
    modules = modules_for(lab, out)
    for index in range(10):
        if index:
            reset(lab, out, "a.toml")
        label = spec_label(lab / "b.toml", out)
        child = subprocess.Popen(
            [sys.executable, "-c", runner, str(lab / "b.toml"), str(out), str(rng.random()), label, module_source(lab / "b.toml", out)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env(),
        )
        assert child.stderr is not None
        child.stderr.readline()
        time.sleep(rng.uniform(0, 0.45))
        child.kill()
        child.communicate(timeout=30)
        breaches = next_run(lab, out) + contract_breaches(out, user, {"B": modules["B"]})
        record(breaches, failures, f"0.1.0 writer killed, case {index}")
    assert not failures, "\n".join(failures)


MALFORMED = {
    "empty object": b"{}",
    "a list": b"[]",
    "empty file": b"",
    "not JSON": b"generated, honest",
    "not UTF-8": b'{"spec": "\xff"}',
    "wrong type": b'{"generator": "ssm-profile", "version": "0.1.0", "spec": "s.toml", "format": "hcl", "partition": "aws", "regions": "us-east-1", "files": {}}',
    "path outside OUT": b'{"generator": "ssm-profile", "version": "0.1.0", "spec": "s.toml", "format": "hcl", "partition": "aws", "regions": ["us-east-1"], "files": {"../../etc/passwd": "' + b"0" * 64 + b'"}}',
    "bad hash": b'{"generator": "ssm-profile", "version": "0.1.0", "spec": "s.toml", "format": "hcl", "partition": "aws", "regions": ["us-east-1"], "files": {"main.tf": "abc"}}',
    "deep nesting": b'{"x": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "a folder": None,
}
COMMANDS = {
    "generate": ["generate", "{spec}", "-o", "{out}"],
    "generate --check": ["generate", "{spec}", "-o", "{out}", "--check"],
    "drift": ["drift", "{out}"],
    "validate": ["validate", "{out}"],
    "plan": ["plan", "{out}", "--offline"],
    "test": ["test", "{out}"],
    "check": ["check", "{out}", "--no-judges"],
    "release": ["release", "{out}", "--version", "1.0.0"],
}


def test_malformed_manifests_in_every_command(lab: Path) -> None:
    failures: list[str] = []
    out, user = start_case(lab, "manifests", count=200)
    modules = modules_for(lab, out)
    module_a = {name: data for name, data in modules["A"].items() if name != MANIFEST_FILE}
    manifest = out / MANIFEST_FILE
    for variant, data in MALFORMED.items():
        for command, template in COMMANDS.items():
            manifest.unlink() if manifest.is_file() else shutil.rmtree(manifest, ignore_errors=True)
            manifest.mkdir() if data is None else manifest.write_bytes(data)
            args = [part.format(spec=lab / "b.toml", out=out) for part in template]
            result = invoke(*args)
            breaches = []
            if result.exit_code != 2 or not isinstance(result.exception, SystemExit):
                breaches.append(f"exit {result.exit_code} ({result.exception!r}): {result.output[-300:]!r}")
            # drift also prints progress and a status line per module; the error is one line
            lines = [line for line in result.output.splitlines() if line.startswith("ssm-profile: error")]
            if len(lines) != 1 or str(manifest) not in lines[0] or "manifest" not in lines[0] or "remove OUT" in lines[0]:
                breaches.append(f"not one line naming the manifest: {result.output[-300:]!r}")
            tree = read_tree(out)
            if any(tree.get(name) != value for name, value in {**user, **module_a}.items()):
                breaches.append("OUT changed")
            record(breaches, failures, f"{variant} manifest, {command}")
        manifest.unlink() if manifest.is_file() else shutil.rmtree(manifest)
        manifest.mkdir() if data is None else manifest.write_bytes(data)
        result = invoke("generate", str(lab / "b.toml"), "-o", str(out), "--force")
        breaches = [] if result.exit_code == 0 else [f"--force: exit {result.exit_code}: {result.output!r}"]
        if data is None:  # a folder at the manifest's name is never replaced, even with --force
            breaches = [] if result.exit_code == 2 and "is a folder or link" in result.output else [f"folder manifest: {result.output!r}"]
            shutil.rmtree(manifest)
            # Without a manifest nothing tells generated files from the user's: --force says so.
            result = invoke("generate", str(lab / "b.toml"), "-o", str(out), "--force")
            breaches += [] if result.exit_code == 0 else [f"--force after the folder went: {result.output!r}"]
        breaches += contract_breaches(out, user, {"B": modules["B"]})
        record(breaches, failures, f"{variant} manifest, generate --force")
        result = invoke("generate", str(lab / "a.toml"), "-o", str(out), "--force")
        assert result.exit_code == 0, result.output
    assert not failures, "\n".join(failures)
