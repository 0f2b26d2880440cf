"""Fault cases that need mounts, run by tests/test_writer_faults.py inside a private mount namespace.

Usage (as root): unshare --mount --propagation private python tests/fault_namespace.py LAB

LAB holds a.toml and b.toml. Each case mounts a small tmpfs (full of data or of inodes), a
read-only bind mount, or a mount point at OUT itself, runs the real ``ssm-profile generate`` and
checks the writer's contract. Prints one JSON list of {"name", "breaches"}; the mounts vanish
with the namespace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import invoke
from faultkit import cli_command, cli_env, contract_breaches, expected_module, one_line_breach, write_user_files

PAGE = 4096


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def generate(lab: Path, spec: str, out: Path, *extra: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command("generate", str(lab / spec), "-o", str(out), "--force", *extra), capture_output=True, text=True, env=cli_env(), cwd=cwd)


def generate_here(lab: Path, spec: str, out: Path) -> list[str]:
    """A run in this process (the set-up, and the next run after a fault)."""
    result = invoke("generate", str(lab / spec), "-o", str(out), "--force")  # B over A: another spec
    return [] if result.exit_code == 0 else [f"run in process: exit {result.exit_code}: {result.output!r}"]


def prepared(lab: Path, mountpoint: Path, count: int) -> tuple[Path, dict[str, bytes], dict[str, dict[str, bytes]]]:
    out = mountpoint / "out"
    out.mkdir()
    assert not generate_here(lab, "a.toml", out)
    modules = {"A": expected_module(lab / "a.toml", out), "B": expected_module(lab / "b.toml", out)}
    return out, write_user_files(out, count), modules


def full_disk_case(lab: Path, base: Path, free_pages: int, inodes: bool) -> dict[str, object]:
    mountpoint = base / f"{'inodes' if inodes else 'space'}-{free_pages}"
    mountpoint.mkdir()
    mount("-t", "tmpfs", "-o", "size=4m,nr_inodes=400" if inodes else "size=2m", "tmpfs", str(mountpoint))
    try:
        out, user, modules = prepared(lab, mountpoint, 150)
        filler = mountpoint / "filler"
        filler.mkdir()
        if inodes:
            index = 0
            while os.statvfs(mountpoint).f_favail > free_pages:
                (filler / str(index)).touch()
                index += 1
        else:
            available = os.statvfs(mountpoint).f_bavail * os.statvfs(mountpoint).f_frsize
            with open(filler / "data", "wb") as file:
                file.write(b"\0" * max(0, available - free_pages * PAGE))
        result = generate(lab, "b.toml", out)
        breaches = one_line_breach(result, (0, 2), "No space left on device")
        if result.returncode == 2 and str(mountpoint) not in result.stderr:
            breaches.append(f"the message names no path: {result.stderr!r}")
        breaches += contract_breaches(out, user, modules)
        subprocess.run(["rm", "-rf", str(filler)], check=True)
        breaches += generate_here(lab, "b.toml", out) + contract_breaches(out, user, {"B": modules["B"]})
        outcome = "failed cleanly" if result.returncode == 2 else "fitted"
        return {"name": f"{'inodes' if inodes else 'space'} for {free_pages} more ({outcome})", "breaches": breaches}
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def read_only_case(lab: Path, base: Path) -> dict[str, object]:
    mountpoint = base / "read-only"
    mountpoint.mkdir()
    mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mountpoint))
    try:
        out, user, modules = prepared(lab, mountpoint, 2000)
        mount("--bind", str(out), str(out))
        mount("-o", "remount,bind,ro", str(out))
        result = generate(lab, "b.toml", out)
        breaches = one_line_breach(result, (2,), "Read-only file system") + contract_breaches(out, user, {"A": modules["A"]})
        return {"name": "read-only mount", "breaches": breaches}
    finally:
        subprocess.run(["umount", "-R", "-l", str(mountpoint)], check=False)


def mount_point_cases(lab: Path, base: Path) -> list[dict[str, object]]:
    cases = []
    for kind in ("tmpfs", "bind"):
        holder = base / f"mount-{kind}"
        out = holder / "out"
        out.mkdir(parents=True)
        if kind == "tmpfs":
            mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(out))
        else:
            source = base / "bind-source"
            source.mkdir()
            mount("--bind", str(source), str(out))
        try:
            assert not generate_here(lab, "a.toml", out)
            modules = {"A": expected_module(lab / "a.toml", out), "B": expected_module(lab / "b.toml", out)}
            user = write_user_files(out, 2000)
            breaches = one_line_breach(generate(lab, "b.toml", out), (0,)) + contract_breaches(out, user, {"B": modules["B"]})
            cases.append({"name": f"OUT is a {kind} mount point", "breaches": breaches})
            here = generate(lab, "a.toml", Path("."), cwd=out)
            label = {"A": expected_module(lab / "a.toml", out)}
            breaches = one_line_breach(here, (0,)) + contract_breaches(out, user, label)
            cases.append({"name": f"-o . in a {kind} mount point", "breaches": breaches})
        finally:
            subprocess.run(["umount", "-l", str(out)], check=False)
    return cases


def main() -> None:
    lab = Path(sys.argv[1])
    base = lab / "namespace"
    base.mkdir()
    mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(base))  # nothing of this run outlives it
    # Each page or inode from none to enough: each level fails at another file of the write.
    cases = [full_disk_case(lab, base, pages, inodes=False) for pages in range(0, 12)]
    cases += [full_disk_case(lab, base, inodes, inodes=True) for inodes in range(0, 12)]
    cases.append(read_only_case(lab, base))
    cases += mount_point_cases(lab, base)
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
