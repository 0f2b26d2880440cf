"""Benchmarks of issue 7: whole ``ssm-profile`` processes against the floors users compare with.

    make bench                                              # everything; what docs/BENCHMARKS.md records
    .venv/bin/python bench/run.py --only startup,scaling    # just the generate benchmarks
    .venv/bin/python bench/run.py --wait 1200               # first wait up to 20 min for a quiet machine

Five benchmarks, each timing whole processes (interpreter start, imports, Terraform and its
provider included) and reporting the median and the spread (min – max) over several runs:

``startup``   native ``generate`` of the largest spec (HCL and JSON) and ``ssm-profile --help``
              against ``python -c 'import click'`` on the same interpreter (issue 16 goal 1:
              generate ≤ 1.5x), from a wheel of the working tree installed into a fresh venv
              (not editable, bytecode written by pip) unless ``--here``; wall and CPU time.
``engines``   native against the CDK engine on the same spec (goal: native ≥ 5x faster).
``scaling``   generate time and peak memory for 1, 10, all Regions and 1, 10, 100 own buckets.
``check``     ``ssm-profile check`` against bare ``terraform init -backend=false && validate &&
              plan`` on the same module: the Terraform steps alone (issue 16: ≤ 1.2x), the
              check before issue 25 (judges, no drift or module tests: ≤ 1.3x), and the whole
              gate (drift, the module's own tests, judges) against the check before it
              (issue 25: ≤ 1.3x).
``batch``     ``ssm-profile check --no-judges`` of four modules in one call against one of them
              (issue 16 goal 2: ≤ 1.6x).
``parallel``  ``ssm-profile check --no-judges`` of every module under modules/, one at a time
              against one process per core.
``fleet``     ``ssm-profile fleet`` of 20 and 200 accounts.
``apply``     ``ssm-profile test --apply`` of every module under modules/ (emulator start, init,
              plan, apply, read-back checks, probes, destroy, emulator stop: the whole process),
              one module a call and all of them in one call (one root, an account each).
``suite``     the test suite as ``make test`` runs it (its pytest workers; venvs already built),
              once, against issue 16 goal 3 (≤ 6 minutes); ``--suite-args`` narrows it.

Commands compared with each other run in the same rounds, one untimed warm-up each, then
alternating (each round starts one command later) so background load hits all alike; ratios
are of medians, with the spread of the per-round ratios beside them. Peak memory is the RSS of
the run's largest process (waited-for descendants included), from GNU time when installed, else
from ``wait4``'s ``ru_maxrss`` (then at least this harness's own RSS). Every run
gets a fresh output folder or Terraform root; Terraform runs share ssm-profile's CLI config and
plugin cache, so the provider is linked, never copied. Results go to stdout as Markdown and to
bench/results/bench-<UTC time>.json (and .md) unless ``--json`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LARGEST = ROOT / "bench" / "specs" / "largest.toml"
#: The largest module (30 provider configurations), and a three-Region one where Terraform's
#: fixed costs weigh more.
CHECK_SPECS = (LARGEST, ROOT / "examples" / "multi-region-full.toml")
RESULTS = ROOT / "bench" / "results"
BENCHMARKS = ("startup", "engines", "scaling", "check", "batch", "parallel", "fleet", "apply", "suite")

#: Issue 16 goal 1: generate of the largest spec, from a regular install, against the click floor.
GOAL_GENERATE_OVER_CLICK = 1.5
GOAL_CDK_OVER_NATIVE = 5.0
GOAL_CHECK_OVER_TERRAFORM = 1.3
#: Issue 16 goal 4: check without the judges skips what it does not need.
GOAL_CHECK_NO_JUDGES_OVER_TERRAFORM = 1.2
#: Issue 16 goal 2: many modules in one call share one provider start.
GOAL_FOUR_OVER_ONE = 1.6
#: The four modules of the batch benchmark; the first is the one checked alone (the largest).
BATCH_MODULES = ("multi-region-full", "basic", "existing-role", "vpc-endpoint-multi-region")
#: Issue 17: a fleet of 200 accounts x 4 Regions generates in under 2 s, memory flat.
GOAL_FLEET_SECONDS = 2.0
FLEET_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")
#: Issue 16 goal 3: the test suite as `make test` runs it (venvs already built), in seconds.
GOAL_SUITE_SECONDS = 6 * 60


# --- one timed process --------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed run: wall-clock seconds, peak resident memory (KiB) of its largest process, and
    CPU seconds (user + system) of its processes (which load inflates less than wall time)."""

    seconds: float
    peak_kib: int
    cpu_seconds: float = 0.0


def _gnu_time() -> str:
    """GNU time, when installed: it forks the measured command from its own small process."""
    path = shutil.which("time", path="/usr/bin:/bin:/usr/local/bin")
    if not path:
        return ""
    try:
        probe = subprocess.run([path, "-f", "%M", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return path if probe.returncode == 0 and probe.stderr.strip().isdigit() else ""


GNU_TIME = _gnu_time()
#: How peak memory is measured. A child's ``ru_maxrss`` starts at its parent's high-water mark
#: (Linux records the old memory map's at exec), so a child forked straight from this harness
#: reports at least the harness's own RSS; GNU time forks it from a process of ~2 MiB instead.
PEAK_RSS_METHOD = "GNU time %M" if GNU_TIME else "wait4 ru_maxrss (at least this harness's RSS)"


def run_process(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, ok_codes=(0,)) -> Sample:
    """Run ``argv`` to completion; its wall-clock time and its peak RSS (see :data:`PEAK_RSS_METHOD`).

    Output goes to files, never pipes, so a chatty process (terraform plan) cannot block on a
    full pipe while nobody reads it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        command = [GNU_TIME, "-f", "%M", "-o", peak.name, *argv] if GNU_TIME else argv
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok_codes:
            out.seek(0)
            err.seek(0)
            tail = (err.read() + out.read()).decode(errors="replace").strip().splitlines()[-15:]
            raise RuntimeError(f"{' '.join(argv)} (in {cwd or Path.cwd()}): exit {process.returncode}\n" + "\n".join(tail))
        # GNU time writes "Command exited with non-zero status N" first when there is one.
        peak_kib = int(peak.read().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Sample(elapsed, peak_kib, usage.ru_utime + usage.ru_stime)


@dataclass(frozen=True)
class Case:
    """A command to time: ``run`` gets a fresh scratch folder for each run (removed afterwards)."""

    label: str
    run: Callable[[Path], Sample]
    note: str = ""


def process_case(label: str, argv: Callable[[Path], list[str]], *, prepare: Callable[[Path], Path | None] | None = None,
                 env: dict[str, str] | None = None, ok_codes=(0,), note: str = "") -> Case:
    """A case timing one process; ``prepare`` (untimed) may return the working folder."""

    def run(scratch: Path) -> Sample:
        cwd = prepare(scratch) if prepare else None
        return run_process(argv(scratch), cwd=cwd or ROOT, env=env, ok_codes=ok_codes)

    return Case(label, run, note)


def batch_case(label: str, argvs: list[list[str]], jobs: int, *, env: dict[str, str] | None = None, note: str = "") -> Case:
    """A case timing a batch of processes, ``jobs`` at a time; peak memory is the largest one's."""

    def run(scratch: Path) -> Sample:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            samples = list(pool.map(lambda argv: run_process(argv, cwd=ROOT, env=env), argvs))
        return Sample(time.perf_counter() - started, max(s.peak_kib for s in samples), sum(s.cpu_seconds for s in samples))

    return Case(label, run, note)


@dataclass
class Series:
    """The samples of one case; ``rounds[i]`` is its sample in round ``i``."""

    label: str
    note: str = ""
    samples: list[Sample] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_seconds(self) -> list[float]:
        return [s.cpu_seconds for s in self.samples]

    @property
    def peak_mib(self) -> float:
        return statistics.median(s.peak_kib for s in self.samples) / 1024

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "note": self.note,
            "median_s": round(self.median, 4),
            "min_s": round(min(self.seconds), 4),
            "max_s": round(max(self.seconds), 4),
            "runs_s": [round(s, 4) for s in self.seconds],
            "cpu_median_s": round(statistics.median(self.cpu_seconds), 4),
            "peak_rss_mib": round(self.peak_mib, 1),
        }


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(cases: list[Case], runs: int, *, warmup: bool = True, say: Callable[[str], None] = progress) -> dict[str, Series]:
    """Time ``cases`` side by side: one untimed warm-up each, then ``runs`` rounds, each round
    starting one case later than the one before."""
    series = {case.label: Series(case.label, case.note) for case in cases}
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-") as tmp:
        counter = 0

        def once(case: Case) -> Sample:
            nonlocal counter
            counter += 1
            scratch = Path(tmp) / f"run-{counter}"
            scratch.mkdir()
            try:
                return case.run(scratch)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        if warmup:
            for case in cases:
                once(case)
        for index in range(runs):
            shift = index % len(cases)
            for case in cases[shift:] + cases[:shift]:
                series[case.label].samples.append(once(case))
            say(f"  round {index + 1}/{runs}: " + ", ".join(f"{c.label} {series[c.label].samples[-1].seconds:.2f} s" for c in cases))
    return series


def ratio(numerator: Series, denominator: Series, *, cpu: bool = False) -> dict[str, float]:
    """The ratio of the medians, and the spread of the ratios within each round (of CPU time with ``cpu``)."""
    top, bottom = (numerator.cpu_seconds, denominator.cpu_seconds) if cpu else (numerator.seconds, denominator.seconds)
    per_round = [n / d for n, d in zip(top, bottom, strict=False)]
    return {
        "of_medians": round(statistics.median(top) / statistics.median(bottom), 3),
        "per_round_min": round(min(per_round), 3),
        "per_round_max": round(max(per_round), 3),
    }


def fmt_ratio(value: dict[str, float]) -> str:
    return f"{value['of_medians']:.2f}x ({value['per_round_min']:.2f} – {value['per_round_max']:.2f})"


def series_table(series: dict[str, Series], *, memory: bool = False, cpu: bool = False) -> list[str]:
    head = "| command | median | min – max |" + (" CPU (median) |" if cpu else "") + (" peak RSS |" if memory else "")
    rows = [head, "| --- | --- | --- |" + (" --- |" if cpu else "") + (" --- |" if memory else "")]
    for s in series.values():
        row = f"| {s.label} | {_secs(s.median)} | {_secs(min(s.seconds))} – {_secs(max(s.seconds))} |"
        row += f" {_secs(statistics.median(s.cpu_seconds))} |" if cpu else ""
        rows.append(row + (f" {s.peak_mib:.0f} MiB |" if memory else ""))
    return rows


def _secs(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# --- what to run -------------------------------------------------------------------------


def ssm_profile(python: str = sys.executable) -> list[str]:
    """The ``ssm-profile`` console script beside ``python`` (what users run)."""
    script = Path(python).parent / "ssm-profile"
    return [str(script)] if script.exists() else [python, "-m", "ssm_profile.cli.main"]


def generate_case(label: str, spec: Path, *extra: str) -> Case:
    return process_case(label, lambda scratch: [*ssm_profile(), "generate", str(spec), "-o", str(scratch / "module"), *extra])


@contextmanager
def wheel_install(say: Callable[[str], None]) -> Iterator[str]:
    """The interpreter of a fresh venv holding a wheel of the working tree, installed as users
    install it (not editable; pip writes the bytecode). Its dependencies (click, msgspec, jinja2
    ...) come from this interpreter's environment, after the venv's own site-packages (a .pth)."""
    with tempfile.TemporaryDirectory(prefix="ssm-profile-wheel-") as tmp:
        folder = Path(tmp)
        say("startup: building a wheel of the working tree and installing it into a fresh venv")
        quiet = {"check": True, "capture_output": True}
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "dist"), str(ROOT)], **quiet)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], **quiet)
        python = str(folder / "venv" / "bin" / "python")
        wheels = [str(w) for w in (folder / "dist").glob("ssm_profile-*.whl")]
        subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", *wheels], **quiet)
        purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True, **quiet).stdout.strip()
        Path(purelib, "ssm-profile-bench-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
        yield python


def generated_module(spec: Path, folder: Path, *extra: str) -> Path:
    """Generate ``spec`` into ``folder`` once (untimed) and return the module folder."""
    run_process([*ssm_profile(), "generate", str(spec), "-o", str(folder), *extra])
    return folder


def terraform_setup() -> tuple[str, dict[str, str]]:
    """The terraform binary ssm-profile runs, and ssm-profile's environment for it (its CLI
    config with the local mirror and the shared plugin cache)."""
    from ssm_profile.terraform.locate import TerraformBinary, find_terraform
    from ssm_profile.terraform.runner import terraform_env

    found = find_terraform()
    if not isinstance(found, TerraformBinary):
        raise SystemExit("the Terraform benchmarks need a terraform binary ($TERRAFORM or PATH)")
    return str(found.path), terraform_env()


def bare_terraform_case(module: Path, terraform: str, env: dict[str, str]) -> Case:
    """Plain ``terraform init -backend=false && validate && plan`` in a throwaway root written
    like ssm-profile's (the module beside a root that calls it with offline providers).

    The root holds a dependency lock file, as a hand-written root under version control does:
    the one the first (warm-up) init wrote. Without it every init re-installs the provider into
    the shared plugin cache, which costs a copy of the provider and can pull it from under a
    concurrent run.
    """
    from ssm_profile.terraform.harness import MODULE_SUFFIXES, module_info, root_config
    from ssm_profile.terraform.locate import seed_lock_file
    from ssm_profile.terraform.runner import init_turn

    config = json.dumps(root_config(module_info(module), offline=True), indent=2)
    lock: list[bytes] = []
    script = (
        f"{terraform} init -backend=false -input=false -no-color"
        f" && {terraform} validate -no-color"
        f" && {terraform} plan -input=false -no-color"
    )

    def run(scratch: Path) -> Sample:
        shutil.copytree(module, scratch / "module", ignore=lambda d, names: [n for n in names if
                        (Path(d, n).is_file() and not n.endswith(MODULE_SUFFIXES)) or n in (".terraform", "tests")])
        (scratch / "main.tf.json").write_text(config + "\n", encoding="utf-8")
        if lock:
            (scratch / ".terraform.lock.hcl").write_bytes(lock[0])
        else:  # ssm-profile's own saved lock file, when a check has run before
            seed_lock_file(scratch)
        with init_turn():  # as ssm-profile's own inits, which share the plugin cache (uncontended: no wait)
            sample = run_process(["sh", "-c", script], cwd=scratch, env=env)
        if not lock:
            lock.append((scratch / ".terraform.lock.hcl").read_bytes())
        return sample

    return Case("terraform init + validate + plan", run, "with a dependency lock file")


def judges_available() -> str:
    """Empty when ``ssm-profile check`` can find its judges from the repository root, else why not."""
    cwd = Path.cwd()
    try:
        os.chdir(ROOT)
        from ssm_profile.judges import find_judges

        find_judges()
        return ""
    except Exception as error:
        return str(error)
    finally:
        os.chdir(cwd)


# --- the benchmarks ------------------------------------------------------------------------


@dataclass
class Report:
    """Markdown lines, the JSON document and the goal verdicts, built up benchmark by benchmark."""

    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    goals: list[dict[str, Any]] = field(default_factory=list)

    def goal(self, name: str, measured: float, target: str, met: bool, unit: str = "x") -> None:
        self.goals.append({"goal": name, "measured": round(measured, 3), "unit": unit, "target": target, "met": met})


def bench_startup(args: argparse.Namespace, report: Report) -> None:
    if args.here:
        _bench_startup(args, report, sys.executable, "the environment of this interpreter")
        return
    with wheel_install(progress) as python:
        _bench_startup(args, report, python, "a wheel of the working tree in a fresh venv (not editable, with bytecode)")


def _bench_startup(args: argparse.Namespace, report: Report, python: str, install: str) -> None:
    spec = args.spec
    command = ssm_profile(python)
    commands: dict[str, Callable[[Path], list[str]]] = {
        "python -c pass": lambda s: [python, "-c", "pass"],
        "python -c 'import click'": lambda s: [python, "-c", "import click"],
        "ssm-profile --help": lambda s: [*command, "--help"],
        "generate --format hcl": lambda s: [*command, "generate", str(spec), "-o", str(s / "module"), "--format", "hcl"],
        "generate --format json": lambda s: [*command, "generate", str(spec), "-o", str(s / "module"), "--format", "json"],
    }
    notes = {"python -c pass": "bare interpreter", "python -c 'import click'": "the floor"}
    cases = [process_case(label, argv, note=notes.get(label, "")) for label, argv in commands.items()]
    load_before = os.getloadavg()
    series = measure(cases, args.runs)
    load_after = os.getloadavg()
    floor = series["python -c 'import click'"]
    labels = ("ssm-profile --help", "generate --format hcl", "generate --format json")
    ratios = {label: ratio(series[label], floor) for label in labels}
    cpu_ratios = {label: ratio(series[label], floor, cpu=True) for label in labels}
    goal = f"≤ {GOAL_GENERATE_OVER_CLICK:g}x"
    report.lines += [f"## 1. Generate against the click floor ({args.runs} runs, spec {_rel(spec)})", ""]
    report.lines += [
        f"ssm-profile from {install}. Machine: {os.cpu_count()} cores ({_cpu_model()}); load average "
        f"{' / '.join(f'{v:.2f}' for v in load_before)} before, {' / '.join(f'{v:.2f}' for v in load_after)} after (1 / 5 / 15 minutes).",
        "",
    ]
    report.lines += series_table(series, memory=True, cpu=True)
    report.lines += ["", "| command | wall / import click | CPU / import click | goal (issue 16) |", "| --- | --- | --- | --- |"]
    for label in labels:
        verdict = "" if label == "ssm-profile --help" else f"{goal}: {'met' if ratios[label]['of_medians'] <= GOAL_GENERATE_OVER_CLICK else 'not met'}"
        report.lines.append(f"| {label} | {fmt_ratio(ratios[label])} | {fmt_ratio(cpu_ratios[label])} | {verdict} |")
    report.lines.append("")
    instructions = _instructions(commands) if shutil.which("valgrind") else {}
    if instructions:
        report.lines += [
            "Instructions executed in user space (valgrind's callgrind, one run each): the same ratios without the machine's load.",
            "",
            "| command | instructions | / import click |",
            "| --- | --- | --- |",
        ]
        floor_ir = instructions["python -c 'import click'"]
        report.lines += [f"| {label} | {count / 1e6:.0f} M | {count / floor_ir:.2f}x |" for label, count in instructions.items()] + [""]
    report.data["startup"] = {
        "spec": _rel(spec), "runs": args.runs, "install": install, "load_before": load_before, "load_after": load_after,
        "series": [s.as_json() for s in series.values()], "ratios_over_click": ratios, "cpu_ratios_over_click": cpu_ratios,
        "instructions": instructions,
    }
    for label in ("generate --format hcl", "generate --format json"):
        value = ratios[label]["of_medians"]
        report.goal(f"{label} / import click", value, goal, value <= GOAL_GENERATE_OVER_CLICK)


def _instructions(commands: dict[str, Callable[[Path], list[str]]]) -> dict[str, int]:
    """Each command's user-space instruction count under valgrind's callgrind (deterministic); {} if it fails."""
    counts = {}
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-") as tmp:
        for index, (label, argv) in enumerate(commands.items()):
            scratch = Path(tmp) / str(index)
            scratch.mkdir()
            command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv(scratch)]
            completed = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            found = [line.split()[-1] for line in completed.stderr.splitlines() if "Collected :" in line]
            if completed.returncode != 0 or not found:
                return {}
            counts[label] = int(found[-1])
    return counts


def bench_engines(args: argparse.Namespace, report: Report) -> None:
    spec = args.spec
    why_not = _cdk_missing()
    report.lines += [f"## 2. Native against the CDK engine ({args.slow_runs} runs, spec {_rel(spec)})", ""]
    if why_not:
        report.lines += [f"Not run: {why_not}.", ""]
        report.data["engines"] = {"skipped": why_not}
        return
    cases = [
        generate_case("native (hcl)", spec, "--format", "hcl"),
        generate_case("native (json)", spec, "--format", "json"),
        generate_case("cdk (json)", spec, "--engine", "cdk"),
    ]
    series = measure(cases, args.slow_runs)
    ratios = {label: ratio(series["cdk (json)"], series[label]) for label in ("native (hcl)", "native (json)")}
    report.lines += [*series_table(series, memory=True), "", "| cdk / native | ratio |", "| --- | --- |"]
    report.lines += [f"| cdk / {label} | {fmt_ratio(value)} |" for label, value in ratios.items()] + [""]
    report.data["engines"] = {"spec": _rel(spec), "runs": args.slow_runs, "series": [s.as_json() for s in series.values()], "cdk_over_native": ratios}
    worst = min(value["of_medians"] for value in ratios.values())
    report.goal("cdk / native (the slower native format)", worst, f"≥ {GOAL_CDK_OVER_NATIVE:g}x", worst >= GOAL_CDK_OVER_NATIVE)


def scaled_spec(base: dict[str, Any], regions: int | None, buckets: int | None) -> dict[str, Any]:
    """``base`` with its first ``regions`` Regions and ``buckets`` own buckets (None: as in base);
    the buckets' flags cycle through the four combinations."""
    spec = json.loads(json.dumps(base))
    if regions is not None:
        spec["regions"] = spec["regions"][:regions]
    if buckets is not None:
        spec["s3"]["buckets"] = [
            {"name": f"org-ssm-bucket-{i:03d}", "cross_account": i % 4 in (0, 3), "encrypted": i % 2 == 0} for i in range(buckets)
        ]
    return spec


def fit_quota(spec: dict[str, Any]) -> dict[str, Any]:
    """Raise ``limits.managed_policies_per_role`` to IAM's maximum (20) when the split policy
    needs more managed policies than the spec allows; an untimed in-process generate decides."""
    from ssm_profile import SpecError, generate

    try:
        generate(spec)
    except SpecError as error:
        if "managed_policies_per_role" not in str(error):
            raise
        spec = {**spec, "limits": {**spec.get("limits", {}), "managed_policies_per_role": 20}}
        generate(spec)
    return spec


def bench_scaling(args: argparse.Namespace, report: Report) -> None:
    from ssm_profile import generate

    base = tomllib.loads(args.spec.read_text(encoding="utf-8"))
    all_regions = len(base["regions"])
    base_buckets = len(base.get("s3", {}).get("buckets", []))
    region_counts = [all_regions if n == "all" else int(n) for n in args.regions]
    variants: dict[tuple[int, int], dict[str, Any]] = {}
    for n in region_counts:
        variants[(min(n, all_regions), base_buckets)] = scaled_spec(base, n, None)
    for n in args.buckets:
        variants.setdefault((all_regions, n), scaled_spec(base, None, n))
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-specs-") as tmp:
        cases, facts = [], {}
        for (regions, buckets), spec in sorted(variants.items()):
            spec = fit_quota(spec)
            path = Path(tmp) / f"r{regions}-b{buckets}.json"
            path.write_text(json.dumps(spec, indent=2), encoding="utf-8")
            module = generate(spec)
            label = f"{regions} Regions, {buckets} buckets"
            facts[label] = {
                "regions": regions,
                "buckets": buckets,
                "managed_policies_per_role": spec.get("limits", {}).get("managed_policies_per_role", 10),
                "custom_policies": len(module.grants.custom_policies),
                "blocks": len(module.document.blocks),
                "output_bytes": sum(len(text.encode()) for text in module.files.values()),
            }
            cases.append(generate_case(label, path))
        series = measure(cases, args.runs)
    smallest = min(series.values(), key=lambda s: s.median)
    report.lines += [f"## 3. Scaling of generate ({args.runs} runs, HCL, variants of {_rel(args.spec)})", ""]
    report.lines += [
        "| Regions | own buckets | median | min – max | / fastest | peak RSS | custom policies | blocks | output |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = []
    for label, s in series.items():
        f = facts[label]
        rows.append({**f, **s.as_json(), "over_fastest": round(s.median / smallest.median, 3)})
        quota = f" (quota {f['managed_policies_per_role']})" if f["managed_policies_per_role"] != 10 else ""
        report.lines.append(
            f"| {f['regions']} | {f['buckets']} | {_secs(s.median)} | {_secs(min(s.seconds))} – {_secs(max(s.seconds))} | "
            f"{s.median / smallest.median:.2f}x | {s.peak_mib:.0f} MiB | {f['custom_policies']}{quota} | {f['blocks']} | "
            f"{f['output_bytes'] / 1024:.0f} KiB |"
        )
    report.lines.append("")
    report.data["scaling"] = {"base_spec": _rel(args.spec), "runs": args.runs, "variants": rows}


def bench_check(args: argparse.Namespace, report: Report) -> None:
    terraform, env = terraform_setup()
    why_not = judges_available() if args.judges else "--no-judges given"
    report.data["check"] = []
    for spec in args.check_specs:
        _bench_check_one(args, report, spec, terraform, env, why_not)


#: The Terraform-only gate (issue 16's "check without the judges" against bare Terraform), the
#: gate as it was before issue 25 (no drift, no module tests), and the whole gate.
CHECK_TERRAFORM_ONLY = "ssm-profile check --skip drift,tests,judges"
CHECK_BEFORE_25 = "ssm-profile check --skip drift,tests (the check before issue 25)"
CHECK_WHOLE = "ssm-profile check (drift, tests, judges)"
CHECK_NO_JUDGES = "ssm-profile check --skip judges"
#: Issue 25: the whole gate (drift and the module's own tests added) ≤ 1.3x the check before it.
GOAL_GATE_OVER_CHECK = 1.3


def _bench_check_one(args: argparse.Namespace, report: Report, spec: Path, terraform: str, env: dict[str, str], why_not: str) -> None:
    report.lines += [f"## 4. ssm-profile check against bare Terraform ({args.tf_runs} runs, spec {_rel(spec)})", ""]
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-module-") as tmp:
        module = generated_module(spec, Path(tmp) / "module")

        def check(*flags: str) -> Callable[[Path], list[str]]:
            return lambda s: [*ssm_profile(), "check", str(module), *flags]

        cases = [bare_terraform_case(module, terraform, env), process_case(CHECK_TERRAFORM_ONLY, check("--skip", "drift,tests,judges"))]
        if why_not:
            cases.append(process_case(CHECK_NO_JUDGES, check("--skip", "judges")))
        else:
            # The suppressions ssm-profile justifies ship in the package and always apply.
            cases += [process_case(CHECK_BEFORE_25, check("--skip", "drift,tests")), process_case(CHECK_WHOLE, check())]
        series = measure(cases, args.tf_runs)
    bare = series["terraform init + validate + plan"]
    ratios = {label: ratio(series[label], bare) for label in series if label != bare.label}
    # The whole gate against the gate without what issue 25 added (with the judges when they run).
    base, whole = (CHECK_BEFORE_25, CHECK_WHOLE) if not why_not else (CHECK_TERRAFORM_ONLY, CHECK_NO_JUDGES)
    gate = ratio(series[whole], series[base])
    report.lines += [*series_table(series, memory=True), "", "| command | / bare terraform |", "| --- | --- |"]
    report.lines += [f"| {label} | {fmt_ratio(value)} |" for label, value in ratios.items()]
    report.lines += ["", f"{whole} / {base}: {fmt_ratio(gate)}."]
    if why_not:
        report.lines += ["", f"With judges: not run ({why_not})."]
    report.lines.append("")
    report.data["check"].append({
        "spec": _rel(spec), "runs": args.tf_runs, "series": [s.as_json() for s in series.values()],
        "ratios_over_bare_terraform": ratios, "gate_over_check": {"whole": whole, "base": base, **gate}, "judges_skipped": why_not,
    })
    report.goal(f"{CHECK_TERRAFORM_ONLY} / bare terraform ({spec.stem})", ratios[CHECK_TERRAFORM_ONLY]["of_medians"],
                f"≤ {GOAL_CHECK_NO_JUDGES_OVER_TERRAFORM:g}x", ratios[CHECK_TERRAFORM_ONLY]["of_medians"] <= GOAL_CHECK_NO_JUDGES_OVER_TERRAFORM)
    if not why_not:
        before = ratios[CHECK_BEFORE_25]["of_medians"]
        report.goal(f"{CHECK_BEFORE_25} / bare terraform ({spec.stem})", before, f"≤ {GOAL_CHECK_OVER_TERRAFORM:g}x", before <= GOAL_CHECK_OVER_TERRAFORM)
    report.goal(f"{whole} / {base} ({spec.stem})", gate["of_medians"], f"≤ {GOAL_GATE_OVER_CHECK:g}x", gate["of_medians"] <= GOAL_GATE_OVER_CHECK)


def bench_batch(args: argparse.Namespace, report: Report) -> None:
    modules = [ROOT / "modules" / name for name in BATCH_MODULES]
    one, four = f"check --no-judges {modules[0].name}", f"check --no-judges of {len(modules)} modules in one call"
    cases = [
        process_case(one, lambda s: [*ssm_profile(), "check", str(modules[0]), "--no-judges"]),
        process_case(four, lambda s: [*ssm_profile(), "check", *map(str, modules), "--no-judges"]),
    ]
    series = measure(cases, args.tf_runs)
    value = ratio(series[four], series[one])
    report.lines += [f"## 4b. Many modules in one call: check --no-judges ({args.tf_runs} runs)", "", f"Modules: {', '.join(BATCH_MODULES)}.", ""]
    report.lines += [*series_table(series, memory=True), "", f"Four in one call / one: {fmt_ratio(value)}.", ""]
    report.data["batch"] = {"modules": list(BATCH_MODULES), "runs": args.tf_runs, "series": [s.as_json() for s in series.values()],
                            "four_over_one": value}
    report.goal("check of 4 modules in one call / check of one", value["of_medians"], f"≤ {GOAL_FOUR_OVER_ONE:g}x",
                value["of_medians"] <= GOAL_FOUR_OVER_ONE)


def bench_parallel(args: argparse.Namespace, report: Report) -> None:
    modules = sorted(p.parent for p in (ROOT / "modules").glob("*/.ssm-profile.json"))
    if args.modules:
        modules = [m for m in modules if m.name in args.modules]
    jobs = args.jobs or os.cpu_count() or 1
    argvs = [[*ssm_profile(), "check", str(m), "--no-judges"] for m in modules]
    cases = [
        batch_case("one at a time", argvs, 1),
        batch_case(f"{jobs} at a time", argvs, jobs),
    ]
    series = measure(cases, args.tf_runs)
    speedup = ratio(series["one at a time"], series[f"{jobs} at a time"])
    names = ", ".join(m.name for m in modules)
    report.lines += [f"## 5. Many modules: check --no-judges of {len(modules)} modules ({args.tf_runs} runs)", "", f"Modules: {names}.", ""]
    report.lines += [*series_table(series, memory=False), "", f"Speed-up with {jobs} at a time: {fmt_ratio(speedup)}.", ""]
    report.data["parallel"] = {"modules": [m.name for m in modules], "jobs": jobs, "runs": args.tf_runs,
                               "series": [s.as_json() for s in series.values()], "speedup": speedup}


def fleet_files_for(folder: Path, accounts: int) -> Path:
    """A repository in ``folder`` with a base spec over :data:`FLEET_REGIONS` and a fleet file
    of ``accounts`` accounts (every engine), each passing its own VPC endpoint network."""
    regions = list(FLEET_REGIONS)
    (folder / ".git").mkdir(parents=True)
    (folder / "ssm-profile.toml").write_text(
        f"version = 1\nregions = {json.dumps(regions)}\n[s3]\nvpc_endpoint = true\n[hybrid]\nenabled = true\n"
        "[vpc_endpoints]\nenabled = true\n",
        encoding="utf-8",
    )
    network = {r: {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"],
                   "security_group_ids": ["sg-0123456789abcdef0"], "route_table_ids": ["rtb-0123456789abcdef0"]} for r in regions}
    fleet = {
        "version": 1, "spec": "ssm-profile.toml", "engines": ["atlantis", "matrix", "terragrunt", "hcp-terraform"],
        "accounts": [{"name": f"account-{i:03d}", "id": f"{100000000000 + i}", "role_arn": f"arn:aws:iam::{100000000000 + i}:role/deployer",
                      "inputs": {"vpc_endpoint_network": network}} for i in range(accounts)],
    }
    path = folder / "fleet.json"
    path.write_text(json.dumps(fleet), encoding="utf-8")
    return path


def bench_fleet(args: argparse.Namespace, report: Report) -> None:
    sizes = (20, 200)
    with tempfile.TemporaryDirectory(prefix="ssm-profile-bench-fleet-") as tmp:
        fleets = {n: fleet_files_for(Path(tmp) / f"repo-{n}", n) for n in sizes}
        cases = [process_case(f"fleet of {n} accounts x {len(FLEET_REGIONS)} Regions",
                              lambda scratch, f=fleets[n]: [*ssm_profile(), "fleet", str(f), "-o", str(f.parent / "live"), "--force"])
                 for n in sizes]
        series = measure(cases, args.runs)
    small, large = (series[c.label] for c in cases)
    report.lines += [f"## 6. Fleet generation ({args.runs} runs; every engine's files)", ""]
    report.lines += [*series_table(series, memory=True), ""]
    report.data["fleet"] = {"runs": args.runs, "series": [s.as_json() for s in series.values()],
                            "memory_growth_20_to_200": round(large.peak_mib / small.peak_mib, 3)}
    report.goal("fleet of 200 accounts (seconds)", large.median, f"≤ {GOAL_FLEET_SECONDS:g} s", large.median <= GOAL_FLEET_SECONDS, unit="s")
    growth = large.peak_mib / small.peak_mib
    report.goal("fleet peak RSS 200 / 20 accounts", growth, "≤ 1.2x (flat)", growth <= 1.2)


def bench_apply(args: argparse.Namespace, report: Report) -> None:
    modules = sorted(p.parent for p in (ROOT / "modules").glob("*/.ssm-profile.json"))
    if args.modules:
        modules = [m for m in modules if m.name in args.modules]
    report.lines += [f"## 7. Apply and destroy against the AWS API emulator: test --apply ({args.tf_runs} runs)", ""]
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        report.lines += ["Not run: the emulator extra is not installed (pip install '.[emulator]').", ""]
        report.data["apply"] = {"skipped": "moto is not installed"}
        return
    cases = [process_case(f"test --apply {m.name}", lambda s, m=m: [*ssm_profile(), "test", str(m), "--apply"]) for m in modules]
    if len(modules) > 1:
        cases.append(process_case(f"test --apply of all {len(modules)} in one call", lambda s: [*ssm_profile(), "test", *map(str, modules), "--apply"]))
    series = measure(cases, args.tf_runs, warmup=False)
    report.lines += [*series_table(series, memory=True), ""]
    report.data["apply"] = {"modules": [m.name for m in modules], "runs": args.tf_runs, "series": [s.as_json() for s in series.values()]}


def pytest_workers() -> list[str]:
    """The pytest worker options of ``make test`` (the Makefile's PYTEST_WORKERS)."""
    found = re.search(r"^PYTEST_WORKERS \?= (.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    return found.group(1).split() if found else []


def bench_suite(args: argparse.Namespace, report: Report) -> None:
    argv = [sys.executable, "-m", "pytest", *pytest_workers(), "-q", "-p", "no:cacheprovider", *shlex.split(args.suite_args)]
    shown = " ".join(["pytest", *argv[3:]])
    report.lines += [f"## 9. The test suite: `{shown}` (1 run, venvs built)", ""]
    report_suite(report, argv[1:], run_process(argv, cwd=ROOT), os.cpu_count() or 1)


def report_suite(report: Report, argv: list[str], sample: Sample, cpus: int) -> None:
    """The suite's figures and its verdict against issue 16 goal 3 (pure: tests feed it samples)."""
    report.lines += [f"{_secs(sample.seconds)} wall, {_secs(sample.cpu_seconds)} CPU (every process of the suite), "
                     f"on {cpus} CPUs: CPU / (wall x CPUs) = {sample.cpu_seconds / (sample.seconds * cpus):.0%}.", ""]
    report.data["suite"] = {"argv": argv, "seconds": sample.seconds, "cpu_seconds": sample.cpu_seconds}
    report.goal("make test (seconds, wall)", sample.seconds, f"≤ {GOAL_SUITE_SECONDS} s", sample.seconds <= GOAL_SUITE_SECONDS, unit="s")


RUNNERS = {"startup": bench_startup, "engines": bench_engines, "scaling": bench_scaling, "check": bench_check, "parallel": bench_parallel,
           "fleet": bench_fleet, "apply": bench_apply, "batch": bench_batch, "suite": bench_suite}


# --- the machine ---------------------------------------------------------------------------


def _cdk_missing() -> str:
    if shutil.which("node") is None:
        return "node is not on PATH"
    import importlib.util

    if importlib.util.find_spec("cdktn") is None and importlib.util.find_spec("cdktf") is None:
        return "neither cdktn nor cdktf is installed (pip install '.[cdk]')"
    return ""


def _output(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import importlib.metadata

    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    cpu = _cpu_model()
    mem_kib = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0)
    terraform = provider = ""
    try:
        from ssm_profile.terraform.locate import PROVIDER, find_provider_mirror, os_arch

        tf = json.loads(_output([shutil.which("terraform") or "terraform", "version", "-json"]) or "{}")
        terraform = tf.get("terraform_version", "")
        mirror = find_provider_mirror().joinpath(*PROVIDER)
        provider = ", ".join(sorted(v.name for v in mirror.iterdir() if (v / os_arch()).is_dir()))
    except Exception:
        pass
    head = _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = bool(_output(["git", "-C", str(ROOT), "status", "--porcelain", "--", "generator"]))
    return {
        "cpu_model": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "terraform": terraform,
        "hashicorp_aws_provider": provider,
        "node": _output(["node", "--version"]),
        "cdktn": version("cdktn"),
        "click": version("click"),
        "ssm_profile": version("ssm-profile"),
        "git": head + (" (generator/ modified)" if dirty else ""),
    }


def _cpu_model() -> str:
    return next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines() if line.startswith("model name")), platform.processor())


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def wait_for_quiet(limit: float, patience: float, say: Callable[[str], None]) -> float:
    """Wait (at most ``patience`` seconds) for the 1-minute load average to fall below ``limit``;
    return the load when done waiting."""
    deadline = time.monotonic() + patience
    load = os.getloadavg()[0]
    while load > limit and time.monotonic() < deadline:
        say(f"  load {load:.2f} > {limit:g}: waiting")
        time.sleep(min(30.0, max(1.0, deadline - time.monotonic())))
        load = os.getloadavg()[0]
    return load


def _spec_path(name: str) -> Path:
    """A spec named relative to the working folder, else to the repository."""
    return Path(name).resolve() if Path(name).exists() else (ROOT / name).resolve()


def _rel(path: Path) -> str:
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated benchmarks (default: all of {','.join(BENCHMARKS)})")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of generate-sized commands (default 15)")
    parser.add_argument("--slow-runs", type=int, default=7, help="timed runs of the CDK comparison (default 7)")
    parser.add_argument("--tf-runs", type=int, default=3, help="timed runs of the Terraform benchmarks (default 3)")
    parser.add_argument("--here", action="store_true", help="startup: time the ssm-profile beside this interpreter, not a wheel in a fresh venv")
    parser.add_argument("--spec", type=Path, default=LARGEST, help="spec of the generate benchmarks (default bench/specs/largest.toml)")
    parser.add_argument("--check-specs", default=",".join(_rel(p) for p in CHECK_SPECS),
                        help=f"comma-separated specs whose modules the check benchmark checks (default {','.join(_rel(p) for p in CHECK_SPECS)})")
    parser.add_argument("--regions", default="1,10,all", help="Region counts of the scaling benchmark (default 1,10,all)")
    parser.add_argument("--buckets", default="1,10,100", help="own-bucket counts of the scaling benchmark (default 1,10,100)")
    parser.add_argument("--modules", default="", help="comma-separated module names under modules/ for the parallel benchmark (default: all)")
    parser.add_argument("--jobs", type=int, default=0, help="parallel checks at a time (default: the number of CPUs)")
    parser.add_argument("--no-judges", dest="judges", action="store_false", help="leave out ssm-profile check with its judges")
    parser.add_argument("--quiet-load", type=float, default=0.7, help="1-minute load average counted as quiet (default 0.7)")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for a quiet machine before each benchmark (default 0)")
    parser.add_argument("--suite-args", default="", help="suite: arguments for pytest (default: none, the whole suite)")
    parser.add_argument("--json", type=Path, help="results file (default bench/results/bench-<UTC time>.json, with a .md beside it)")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if min(args.runs, args.slow_runs, args.tf_runs) < 1:
        parser.error("run counts must be at least 1")
    args.regions = [n.strip() for n in args.regions.split(",") if n.strip()]
    args.buckets = [int(n) for n in args.buckets.split(",") if n.strip()]
    args.modules = [n.strip() for n in args.modules.split(",") if n.strip()]
    args.spec = args.spec.resolve()
    args.check_specs = [_spec_path(name.strip()) for name in args.check_specs.split(",") if name.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say = progress
    # A sandbox may set this; users' installs have bytecode (pip compiles it), so the children
    # may write theirs once (the warm-up) instead of compiling ssm_profile from source per run.
    bytecode_was_off = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None
    # Like for like with the bare-Terraform baseline, which installs from the local mirror.
    os.environ.setdefault("SSM_PROFILE_PROVIDERS", "mirror")
    started = datetime.now(UTC)
    report = Report()
    report.data = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "command": " ".join(["bench/run.py", *(argv or sys.argv[1:])]),
        "pythondontwritebytecode_removed": bytecode_was_off,
        "peak_rss_method": PEAK_RSS_METHOD,
        "load": {},
    }
    for name in args.only:
        load_before = wait_for_quiet(args.quiet_load, args.wait, say)
        say(f"{name}: started (1-minute load {load_before:.2f})")
        begun = time.perf_counter()
        RUNNERS[name](args, report)
        report.data["load"][name] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
        say(f"{name}: done in {time.perf_counter() - begun:.0f} s")
    report.data["goals"] = report.goals
    report.data["finished"] = datetime.now(UTC).isoformat(timespec="seconds")

    m = report.data["machine"]
    header = [
        "# ssm-profile benchmarks",
        "",
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, {m['os']}; Python {m['python']}, "
        f"Terraform {m['terraform'] or '?'}, hashicorp/aws {m['hashicorp_aws_provider'] or '?'}, node {m['node'] or '-'}, "
        f"cdktn {m['cdktn']}; ssm-profile {m['ssm_profile']} at {m['git'] or '?'}; {report.data['started']}.",
        f"Peak RSS: {PEAK_RSS_METHOD}; PYTHONDONTWRITEBYTECODE "
        f"{'removed for the children' if report.data['pythondontwritebytecode_removed'] else 'not set'}.",
        "1-minute load before / after each benchmark: "
        + ", ".join(f"{name} {v['before']:.2f} / {v['after']:.2f}" for name, v in report.data["load"].items()) + ".",
        "",
    ]
    goals = ["## Goals", "", "| goal | measured | target | met |", "| --- | --- | --- | --- |"]
    goals += [f"| {g['goal']} | {g['measured']:.2f}{' ' if g['unit'] == 's' else ''}{g['unit']} | {g['target']} | {'yes' if g['met'] else 'no'} |" for g in report.goals]
    markdown = "\n".join(header + report.lines + (goals if report.goals else [])) + "\n"
    print(markdown, end="")

    target = args.json or RESULTS / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.data, indent=2) + "\n", encoding="utf-8")
    target.with_suffix(".md").write_text(markdown, encoding="utf-8")
    say(f"results: {_rel(target)} and {_rel(target.with_suffix('.md'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
