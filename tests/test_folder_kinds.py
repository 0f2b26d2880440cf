"""Folders of one kind never overwritten by a run of another (docs/folders.md), from the user's side.

Each case runs the real ``ssm-profile`` in a subprocess against a small repository (the example
fleet and its spec) and checks the contract: a refused run exits 2 with one line naming both
folders' sources, and every file on disk is byte-identical afterwards; an accepted run leaves
exactly what the docs say. Expected messages and file sets are written by hand from
docs/folders.md, never read back from the tool.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES_DIR
from faultkit import cli_command, cli_env, one_line_breach, read_tree

SPEC = 'version = 1\nregions = ["us-east-2"]\n'
OTHER_SPEC = 'version = 1\nregions = ["us-east-2", "eu-west-1"]\n'
TEMPORARY = ".ssm-profile-tmp-"


def ssm_profile(*args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command(*args), cwd=cwd, capture_output=True, text=True, env=env or cli_env(), timeout=300, **kwargs)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example fleet (fleet.toml, ssm-profile.toml) in a repository, plus other.toml."""
    root = tmp_path / "infra"
    shutil.copytree(EXAMPLES_DIR / "fleet", root)
    (root / ".git").mkdir()
    (root / "spec.toml").write_text(SPEC)
    (root / "other.toml").write_text(OTHER_SPEC)
    return root


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


def refused(result: subprocess.CompletedProcess[str], *contains: str) -> list[str]:
    breaches = one_line_breach(result, (2,))
    return breaches + [f"the message does not say {text!r}: {result.stderr!r}" for text in contains if text not in result.stderr]


# -- 1. a folder of another kind or spec ------------------------------------------------------


def test_every_run_over_a_folder_of_another_kind_or_spec_stops_and_changes_nothing(repo: Path) -> None:
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    ok(ssm_profile("release", "mod", "--version", "1.0.0", cwd=repo))
    ok(ssm_profile("fleet", "fleet.toml", "-o", "live", cwd=repo))
    before = read_tree(repo)
    module_of_spec = 'a module generated from "../spec.toml"'
    live = "a fleet's LIVE folder (fleet file \"../fleet.toml\")"
    cases = {
        "fleet over a module": (("fleet", "fleet.toml", "-o", "mod"), ("mod: holds " + module_of_spec, live)),
        "generate over LIVE": (("generate", "spec.toml", "-o", "live"), ("live: holds " + live, module_of_spec)),
        "release of LIVE": (("release", "live", "--bump", "auto"), ("live: holds " + live, "not a module")),
        "another spec over a released module": (("generate", "other.toml", "-o", "mod"), (module_of_spec, '"../other.toml"', "--force")),
    }
    failures = []
    for name, (args, contains) in cases.items():
        result = ssm_profile(*args, cwd=repo)
        failures += [f"{name}: {breach}" for breach in refused(result, *contains)]
        if read_tree(repo) != before:
            failures.append(f"{name}: the repository changed")
    assert not failures, "\n".join(failures)


def test_force_replaces_a_module_of_another_spec_and_keeps_the_users_files(repo: Path) -> None:
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    (repo / "mod" / "notes.md").write_text("mine\n")
    ok(ssm_profile("generate", "other.toml", "-o", "mod", "--force", cwd=repo))
    manifest = json.loads((repo / "mod" / ".ssm-profile.json").read_text())
    assert manifest["spec"] == "../other.toml" and manifest["regions"] == ["us-east-2", "eu-west-1"]
    assert (repo / "mod" / "notes.md").read_text() == "mine\n"


def test_generate_without_format_keeps_the_modules_format(repo: Path) -> None:
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", "--format", "json", cwd=repo))
    before = read_tree(repo / "mod")
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    assert read_tree(repo / "mod") == before
    assert not list((repo / "mod").glob("*.tf")), "switched to HCL"
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", "--format", "hcl", cwd=repo))  # asked for: switched
    assert (repo / "mod" / "main.tf").is_file() and not (repo / "mod" / "main.tf.json").exists()


def test_a_manifest_of_0_1_0_tells_its_kind_by_its_content(repo: Path) -> None:
    """0.1.0 wrote no ``engine`` (and no kind): a module is one without ``fleet``."""
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    path = repo / "mod" / ".ssm-profile.json"
    manifest = json.loads(path.read_text())
    del manifest["engine"]
    manifest["version"] = "0.1.0"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    before = read_tree(repo)
    assert refused(ssm_profile("fleet", "fleet.toml", "-o", "mod", cwd=repo), "holds a module generated from") == []
    assert refused(ssm_profile("generate", "other.toml", "-o", "mod", cwd=repo), '"../spec.toml"', '"../other.toml"') == []
    assert read_tree(repo) == before


# -- 3, 5. fleet: both folders checked before either is written --------------------------------


@pytest.mark.parametrize(
    "module, live, message",
    [
        ("live/prod", "live", "module: 'live/prod' is inside the root of account 'prod'"),
        ("live/prod/shared", "live", "module: 'live/prod/shared' is inside the root of account 'prod'"),
        ("live", "live", "module: 'live' is LIVE (live) itself"),
    ],
)
def test_a_module_folder_overlapping_an_account_root_is_refused_before_anything_is_written(
    repo: Path, module: str, live: str, message: str
) -> None:
    text = (repo / "fleet.toml").read_text().replace('module = "modules/ssm-profile"', f'module = "{module}"')
    (repo / "fleet.toml").write_text(text)
    before = read_tree(repo)
    assert refused(ssm_profile("fleet", "fleet.toml", "-o", live, cwd=repo), message) == []
    assert read_tree(repo) == before and not (repo / live).exists()
    # --force does not make one folder overwrite the other
    assert refused(ssm_profile("fleet", "fleet.toml", "-o", live, "--force", cwd=repo), message) == []
    assert read_tree(repo) == before


def test_bad_live_leaves_the_shared_module_unwritten_and_says_so_truthfully(repo: Path) -> None:
    (repo / "dangling").symlink_to("nowhere")
    (repo / "taken" / "prod").mkdir(parents=True)
    (repo / "taken" / "prod" / "main.tf").write_text("# mine\n")
    (repo / "blocked" / "prod").mkdir(parents=True)
    (repo / "blocked" / "prod" / "main.tf").mkdir()
    before = read_tree(repo)
    cases = {
        "dangling": ("which does not exist or cannot be followed",),
        "taken": ("prod/main.tf exists and was not generated by ssm-profile", "nothing was written"),
        "blocked": ("prod/main.tf is a folder or link", "nothing was written"),
    }
    failures = []
    for live, contains in cases.items():
        for force in ((), ("--force",)) if live == "blocked" else ((),):
            result = ssm_profile("fleet", "fleet.toml", "-o", live, *force, cwd=repo)
            failures += [f"{live}: {b}" for b in refused(result, *contains)]
            if read_tree(repo) != before or (repo / "modules").exists():
                failures.append(f"{live}: something was written")
    assert not failures, "\n".join(failures)


# -- 2. concurrent releases ------------------------------------------------------------------


def test_concurrent_releases_each_land_in_the_record(repo: Path) -> None:
    """N ``release --bump patch`` processes at once on one module: each reads the record the one
    before it wrote (under OUT's lock), so the history holds all N, each version once."""
    runs = 4
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    ok(ssm_profile("release", "mod", "--version", "1.0.0", cwd=repo))
    processes = [
        subprocess.Popen(cli_command("release", "mod", "--bump", "patch"), cwd=repo, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(runs)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [p.returncode for p in processes] == [0] * runs, outputs
    record = json.loads((repo / "mod" / ".ssm-profile-release.json").read_text())
    versions = [entry["version"] for entry in record["changelog"]]
    assert versions == ["1.0.4", "1.0.3", "1.0.2", "1.0.1", "1.0.0"]
    assert record["version"] == "1.0.4"
    assert sorted(line.split(": released ")[1].split(":")[0] for line, _ in outputs) == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    changelog = (repo / "mod" / "CHANGELOG.md").read_text()
    assert all(f"## {version}\n" in changelog for version in versions)


# -- 6. a failed write into a new OUT --------------------------------------------------------


def test_a_failed_write_into_a_new_out_removes_the_folders_it_created(repo: Path) -> None:
    """A file size limit (EFBIG, as a full disk fails a write): OUT and its new parents go."""
    result = ssm_profile(
        "generate", "spec.toml", "-o", "new/deeper/out", cwd=repo,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500)),
    )
    assert one_line_breach(result, (2,), "File too large") == []
    assert not (repo / "new").exists(), sorted(p.name for p in (repo / "new").rglob("*"))
    (repo / "existing").mkdir()
    result = ssm_profile(
        "generate", "spec.toml", "-o", "existing/out", cwd=repo,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500)),
    )
    assert one_line_breach(result, (2,), "File too large") == []
    assert (repo / "existing").is_dir() and not (repo / "existing" / "out").exists()  # only what this run made


# -- 4. drift over folders it cannot read -----------------------------------------------------


def test_drift_names_a_folder_it_cannot_search_and_counts_in_english(repo: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="ssm-profile-drift-"))
    try:
        base.chmod(0o755)
        (base / "spec.toml").write_text(SPEC)
        ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=base))
        result = ssm_profile("drift", ".", cwd=base)
        ok(result)
        assert result.stdout.splitlines()[-1] == "1 module up to date"
        (base / "private" / "mod").mkdir(parents=True)
        (base / "private").chmod(0o700)  # root's; the run below is nobody's
        for folder, _dirs, _files in os.walk(base / "mod"):
            os.chmod(folder, 0o755)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        result = subprocess.run(nobody + cli_command("drift", "."), cwd=base, capture_output=True, text=True, env=cli_env(), timeout=120)
        assert one_line_breach(result, (2,), "private: cannot be searched for modules (Permission denied)") == []
    finally:
        shutil.rmtree(base)


# -- 9. leftovers of a killed fleet run ------------------------------------------------------


def test_a_fleet_run_killed_at_random_moments_then_a_changed_fleet_leaves_no_litter(repo: Path) -> None:
    """SIGKILL a fleet run of 120 accounts at a random moment, drop half the accounts from the
    fleet file, run again: LIVE holds exactly the new fleet's files and the user's, nothing else."""
    rng = random.Random(20261206)
    accounts = [{"name": f"acct-{n:03d}", "id": f"{100000000000 + n}", "role_arn": f"arn:aws:iam::{100000000000 + n}:role/deployer"} for n in range(120)]
    fleet = {"version": 1, "spec": "spec.toml", "module": "modules/shared", "engines": ["matrix"], "backend": {"type": "none"}}
    failures = []
    for case in range(4):
        live = repo / f"live-{case}"
        live.mkdir()
        (live / "notes.md").write_text("mine\n")
        (live / "acct-001").mkdir()
        (live / "acct-001" / f".keep{TEMPORARY}mine").write_text("not the tool's: no 12 hex digits\n")
        (repo / "fleet.json").write_text(json.dumps({**fleet, "accounts": accounts}))
        process = subprocess.Popen(cli_command("fleet", "fleet.json", "-o", live.name), cwd=repo, env=cli_env(), stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        (repo / "fleet.json").write_text(json.dumps({**fleet, "accounts": accounts[::2]}))  # the user changed it
        result = ssm_profile("fleet", "fleet.json", "-o", live.name, cwd=repo)
        if result.returncode != 0:
            failures.append(f"case {case}: next run: exit {result.returncode} {result.stderr!r}")
            continue
        manifest = json.loads((live / ".ssm-profile.json").read_text())
        expected = {*manifest["files"], ".ssm-profile.json", "notes.md", f"acct-001/.keep{TEMPORARY}mine"}
        found = set(read_tree(live))
        if found != expected:
            failures.append(f"case {case}: extra {sorted(found - expected)[:5]}, missing {sorted(expected - found)[:5]}")
        folders = {p.relative_to(live).as_posix() for p in live.iterdir() if p.is_dir()}
        wanted = {a["name"] for a in accounts[::2]} | {"acct-001"}
        if folders != wanted:
            failures.append(f"case {case}: account folders left: {sorted(folders - wanted)[:5]}")
    assert not failures, "\n".join(failures)


# -- 10. plan --markdown when every module fails ----------------------------------------------

FAKE_TERRAFORM = """#!/bin/sh
case "$1" in
  version) printf '%s\\n' "$FAKE_VERSION"; exit 0;;
  fmt) exit 0;;
  init) [ -n "$FAKE_INIT_FAILS" ] && { printf 'Error: Failed to query provider caf\\351.tf\\n' >&2; exit 1; }; exit 0;;
  validate) echo '{"format_version":"1.0","valid":true,"error_count":0,"warning_count":0,"diagnostics":[]}'; exit 0;;
  plan) exit 0;;
  show) printf '%s\\n' "$FAKE_SHOW"; exit 0;;
esac
exit 0
"""
GOOD_VERSION = '{"terraform_version": "1.11.0"}'
GOOD_SHOW = '{"format_version": "1.2", "resource_changes": []}'


def fake_terraform(tmp_path: Path, **outputs: str) -> dict[str, str]:
    script = tmp_path / "fake-terraform"
    script.write_text(FAKE_TERRAFORM)
    script.chmod(0o755)
    env = {**cli_env(), "TERRAFORM": str(script), "SSM_PROFILE_PROVIDERS": "terraform", "FAKE_VERSION": GOOD_VERSION, "FAKE_SHOW": GOOD_SHOW}
    env.update({f"FAKE_{name.upper()}": value for name, value in outputs.items()})
    return env


def test_plan_markdown_says_so_when_every_module_fails(repo: Path) -> None:
    ok(ssm_profile("generate", "spec.toml", "-o", "a", cwd=repo))
    ok(ssm_profile("generate", "other.toml", "-o", "b", cwd=repo))
    (repo / "report.md").write_text("### ssm-profile plan: a\n\n**1 to add**\n")  # an earlier run's report
    result = ssm_profile("plan", "a", "b", "--offline", "--markdown", "report.md", cwd=repo, env=fake_terraform(repo, init_fails="1"))
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    report = (repo / "report.md").read_text()
    assert "1 to add" not in report
    assert report.count("**Plan failed:**") == 2 and "### ssm-profile plan: a\n" in report and "### ssm-profile plan: b\n" in report


# -- 7. what a Terraform that is not quite Terraform prints -------------------------------------


@pytest.mark.parametrize(
    "command, outputs",
    [
        (("validate", "mod"), {"version": "{}"}),
        (("validate", "mod"), {"version": "garbage"}),
        (("validate", "mod"), {"version": "[]"}),
        (("validate", "mod"), {"version": '{"terraform_version": 5}'}),
        (("plan", "mod", "--offline"), {"show": "{}"}),
        (("plan", "mod", "--offline"), {"show": "garbage \x01"}),
        (("plan", "mod", "--offline"), {"show": '{"format_version": "1.2", "resource_changes": 5}'}),
        (("plan", "mod", "--offline"), {"show": '{"format_version": "1.2", "planned_values": []}'}),
        (("validate", "mod"), {"init_fails": "1"}),  # Latin-1 bytes on stderr
    ],
    ids=["version-{}", "version-garbage", "version-list", "version-number", "show-{}", "show-garbage", "show-changes-number", "show-values-list", "latin-1-error"],
)
def test_odd_terraform_output_is_one_line_and_exit_3(repo: Path, command: tuple[str, ...], outputs: dict[str, str]) -> None:
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    result = ssm_profile(*command, cwd=repo, env=fake_terraform(repo, **outputs))
    assert one_line_breach(result, (3,), "terraform") == [], result.stderr
    if "init_fails" in outputs:
        assert "caf\ufffd.tf" in result.stderr  # the undecodable byte shown, not a crash


# -- 11. names that would break a header comment ----------------------------------------------


def without_source(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if 'source = "' not in line)


@pytest.mark.parametrize("name", ["x-->.toml", "a--!>b/spec.toml", "<!--x--/spec.toml"])
def test_any_spec_file_name_stays_inside_the_header_comment(repo: Path, name: str) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(SPEC)
    ok(ssm_profile("generate", name, "-o", "odd", cwd=repo))
    ok(ssm_profile("generate", "spec.toml", "-o", "plain", cwd=repo))
    for file in ("main.tf", "variables.tf", "README.md", "tests/module.tftest.hcl"):
        odd, plain = ((repo / folder / file).read_text() for folder in ("odd", "plain"))
        first, _, rest = odd.partition("\n")
        # Everything after the header line is what a plainly named spec generates (but for the
        # README's module source, the folder relative to the spec): nothing leaked.
        assert without_source(rest) == without_source(plain.partition("\n")[2]), file
        if file == "README.md":  # an HTML comment ends at the first "-->" or "--!>" (HTML, 13.2.6.2)
            assert first.startswith("<!-- ") and first.endswith(" -->") and first[4:-4].count("--") == 0, first
        else:
            assert first.startswith("# "), first
    ok(ssm_profile("drift", "odd", cwd=repo))


@pytest.mark.parametrize("name", ["a\nresource \"null_resource\" \"x\" {}\n", "line\u2028sep", "tab\t", "\x85", "rtl\u202e"])
def test_a_header_naming_any_source_is_one_comment_line(name: str) -> None:
    """The library takes any ``source`` label: a new line in it would end the ``#`` comment and
    start Terraform code. (The CLI's spec reader already refuses such file names.)"""
    from ssm_profile import generate

    module = generate({"version": 1, "regions": ["us-east-2"]}, source=name)
    plain = generate({"version": 1, "regions": ["us-east-2"]}, source="spec")
    for file, text in module.files.items():
        if file.endswith((".tf", ".hcl", ".md")):
            first, _, rest = text.partition("\n")
            assert first.isprintable() and "--" not in first.removeprefix("<!--").removesuffix("-->"), (file, first)
            assert rest == plain.files[file].partition("\n")[2], file


def test_a_control_character_in_a_spec_file_name_is_refused(repo: Path) -> None:
    (repo / "a\nb.toml").write_text(SPEC)
    assert refused(ssm_profile("generate", "a\nb.toml", "-o", "odd", cwd=repo), "control character") == []
    assert not (repo / "odd").exists()


# -- 12. judges install over a folder it did not create -----------------------------------------


def test_judges_install_refuses_a_real_folder_at_its_target_and_leaves_no_links(tmp_path: Path) -> None:
    from ssm_profile.judges.env import environment_key

    cache = tmp_path / "cache"
    target = cache / "judges" / environment_key()
    target.mkdir(parents=True)
    (target / "mine.txt").write_text("a venv of my own\n")
    (cache / "judges" / f".{environment_key()}.link-4242").symlink_to(f"{environment_key()}.build-gone")  # a killed install's
    env = {**cli_env(), "SSM_PROFILE_CACHE": str(cache)}
    for _ in range(2):
        result = subprocess.run(cli_command("judges", "install"), capture_output=True, text=True, env=env, timeout=60)
        assert one_line_breach(result, (2,), "a folder ssm-profile did not create") == []
    assert (target / "mine.txt").read_text() == "a venv of my own\n"
    assert sorted(p.name for p in (cache / "judges").iterdir()) == [".lock", environment_key()]  # no build, no dangling link


@pytest.mark.terraform
def test_a_latin_1_file_of_the_users_makes_real_terraform_fail_in_one_line(repo: Path) -> None:
    """A ``café.tf`` saved in Latin-1 beside the module: Terraform 1.11 echoes its bytes back
    (not UTF-8) in the diagnostic; the run ends with exit 3 and one line, not a UnicodeDecodeError."""
    ok(ssm_profile("generate", "spec.toml", "-o", "mod", cwd=repo))
    (repo / "mod" / "café.tf").write_bytes('locals {\n  note = "caf\xe9 \xe0 la carte"\n  broken =\n}\n'.encode("latin-1"))
    result = ssm_profile("validate", "mod", cwd=repo)
    assert one_line_breach(result, (3,), "terraform") == [], result.stderr
