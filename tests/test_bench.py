"""The benchmark harness (bench/run.py, `make bench`) runs end to end with one run per command.

The runs are smoke tests: no figure is asserted, since timings depend on the machine and its load.
The verdicts against the goals are tested on synthetic samples, where the answer is known.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

HARNESS = ROOT / "bench" / "run.py"


def bench_module() -> Any:
    """bench/run.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_run", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def run_harness(tmp_path: Path, *args: str) -> tuple[dict[str, Any], str]:
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, str(HARNESS), *args, "--json", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=1800,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert results.with_suffix(".md").read_text(encoding="utf-8") == completed.stdout
    return json.loads(results.read_text(encoding="utf-8")), completed.stdout


def labels(benchmark: dict[str, Any]) -> list[str]:
    return [series["label"] for series in benchmark["series"]]


@pytest.mark.slow
def test_generate_benchmarks_run(tmp_path: Path) -> None:
    data, markdown = run_harness(tmp_path, "--only", "startup,scaling,fleet", "--runs", "1", "--regions", "1,all", "--buckets", "1,100")

    assert labels(data["startup"]) == [
        "python -c pass",
        "python -c 'import click'",
        "ssm-profile --help",
        "generate --format hcl",
        "generate --format json",
    ]
    assert set(data["startup"]["ratios_over_click"]) == {"ssm-profile --help", "generate --format hcl", "generate --format json"}
    variants = {(v["regions"], v["buckets"]) for v in data["scaling"]["variants"]}
    assert variants == {(1, 10), (29, 10), (29, 1), (29, 100)}
    assert all(v["peak_rss_mib"] > 0 and len(v["runs_s"]) == 1 for v in data["scaling"]["variants"])
    assert labels(data["fleet"]) == ["fleet of 20 accounts x 4 Regions", "fleet of 200 accounts x 4 Regions"]
    assert [g["goal"] for g in data["goals"]] == [
        "generate --format hcl / import click",
        "generate --format json / import click",
        "fleet of 200 accounts (seconds)",
        "fleet peak RSS 200 / 20 accounts",
    ]
    assert data["machine"]["cpus"] >= 1 and data["machine"]["python"]
    assert "## 1. Generate against the click floor" in markdown and "## Goals" in markdown


@pytest.mark.slow
@pytest.mark.cdk
def test_engine_benchmark_runs(tmp_path: Path) -> None:
    data, _ = run_harness(tmp_path, "--only", "engines", "--slow-runs", "1", "--spec", "examples/basic.toml")

    assert labels(data["engines"]) == ["native (hcl)", "native (json)", "cdk (json)"]
    assert set(data["engines"]["cdk_over_native"]) == {"native (hcl)", "native (json)"}


@pytest.mark.slow
@pytest.mark.terraform
def test_terraform_benchmarks_run(tmp_path: Path) -> None:
    data, markdown = run_harness(
        tmp_path, "--only", "check,parallel", "--tf-runs", "1", "--check-specs", "examples/basic.toml",
        "--modules", "basic", "--jobs", "2", "--no-judges",
    )

    [check] = data["check"]
    assert check["spec"] == "examples/basic.toml"
    assert labels(check) == ["terraform init + validate + plan", "ssm-profile check --skip drift,tests,judges", "ssm-profile check --skip judges"]
    assert check["gate_over_check"]["whole"] == "ssm-profile check --skip judges" and check["gate_over_check"]["of_medians"] > 0
    assert check["judges_skipped"] == "--no-judges given"
    assert data["parallel"]["modules"] == ["basic"]
    assert labels(data["parallel"]) == ["one at a time", "2 at a time"]
    assert "Speed-up with 2 at a time" in markdown


@pytest.mark.slow
@pytest.mark.terraform
def test_apply_benchmark_runs(tmp_path: Path) -> None:
    # one module (the all-in-one-call case needs two: its code path is test_apply.py's batch)
    data, markdown = run_harness(tmp_path, "--only", "apply", "--tf-runs", "1", "--modules", "basic")
    assert data["apply"]["modules"] == ["basic"]
    assert labels(data["apply"]) == ["test --apply basic"]
    assert "## 7. Apply and destroy against the AWS API emulator" in markdown


def test_suite_benchmark_runs_the_tests_as_make_test_does(tmp_path: Path) -> None:
    data, markdown = run_harness(tmp_path, "--only", "suite", "--suite-args", "tests/test_release_levels.py -k region_added_names")
    argv = data["suite"]["argv"]
    assert argv[:4] == ["-m", "pytest", "-n", "auto"] and argv[-3:] == ["tests/test_release_levels.py", "-k", "region_added_names"]
    assert data["suite"]["seconds"] > 0 and data["suite"]["cpu_seconds"] > 0
    [goal] = data["goals"]
    assert goal["goal"] == "make test (seconds, wall)" and goal["target"] == "≤ 360 s" and goal["unit"] == "s"
    assert goal["measured"] == round(data["suite"]["seconds"], 3)
    assert "## 9. The test suite: `pytest -n auto --dist loadfile" in markdown


@pytest.mark.parametrize(("seconds", "met"), [(359.9, True), (360.0, True), (361.0, False), (1200.0, False)])
def test_the_suite_goal_is_met_only_within_six_minutes(seconds: float, met: bool) -> None:
    bench = bench_module()
    report = bench.Report()
    bench.report_suite(report, ["-m", "pytest"], bench.Sample(seconds=seconds, peak_kib=1, cpu_seconds=seconds), cpus=2)
    assert report.goals == [{"goal": "make test (seconds, wall)", "measured": seconds, "unit": "s", "target": "≤ 360 s", "met": met}]
    assert report.data["suite"] == {"argv": ["-m", "pytest"], "seconds": seconds, "cpu_seconds": seconds}
    assert report.lines[0].endswith("on 2 CPUs: CPU / (wall x CPUs) = 50%.")  # CPU = wall on 2 CPUs: half the machine
