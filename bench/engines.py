"""Benchmark: whole-process ``ssm-profile generate`` time, native engine against the CDK engine.

    .venv/bin/python bench/engines.py            # the largest example, 7 runs per engine
    .venv/bin/python bench/engines.py --runs 15 --spec examples/basic.toml

Each run is a fresh ``ssm-profile generate SPEC -o OUT --engine ENGINE`` process writing into a
new folder, so the figures include interpreter start, imports and (for cdk) starting Node and
synthesising. One untimed warm-up run per engine fills disk caches; the timed runs alternate
between engines so background load hits both alike. Prints the median, the spread (min–max)
and the ratio of the medians as a Markdown table.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("native", "cdk")


def largest_example() -> Path:
    """The example spec whose module has the most blocks (ties: the larger spec file)."""
    from ssm_profile import generate

    specs = [p for p in sorted((ROOT / "examples").iterdir()) if p.suffix in (".toml", ".yaml", ".yml", ".json")]
    return max(specs, key=lambda p: (len(generate(p).document.blocks), p.stat().st_size))


def command() -> list[str]:
    script = Path(sys.executable).parent / "ssm-profile"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ssm_profile.cli.main"]


def generate_once(spec: Path, engine: str, scratch: Path) -> float:
    out = Path(tempfile.mkdtemp(prefix=f"{engine}-", dir=scratch)) / "module"
    started = time.perf_counter()
    result = subprocess.run(
        [*command(), "generate", str(spec), "-o", str(out), "--engine", engine],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or result.stderr:
        sys.exit(f"{engine}: exit {result.returncode}\n{result.stderr}")
    shutil.rmtree(out.parent)
    return elapsed


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "not found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per engine (default 7)")
    parser.add_argument("--spec", type=Path, help="spec to generate (default: the largest example)")
    args = parser.parse_args()
    spec = (args.spec or largest_example()).resolve()

    timings: dict[str, list[float]] = {engine: [] for engine in ENGINES}
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-") as scratch:
        for engine in ENGINES:
            generate_once(spec, engine, Path(scratch))  # warm-up, untimed
        for _ in range(args.runs):
            for engine in ENGINES:
                timings[engine].append(generate_once(spec, engine, Path(scratch)))

    medians = {engine: statistics.median(values) for engine, values in timings.items()}
    print(f"spec: {spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec}; {args.runs} runs per engine")
    print(
        f"python {platform.python_version()}, node {node_version()}, cdktn {version_of('cdktn')}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}"
    )
    print()
    print("| engine | median | min – max |")
    print("| --- | --- | --- |")
    for engine, values in timings.items():
        print(f"| {engine} | {medians[engine]:.2f} s | {min(values):.2f} – {max(values):.2f} s |")
    print()
    print(f"cdk / native: {medians['cdk'] / medians['native']:.1f}x (ratio of medians)")


if __name__ == "__main__":
    main()
