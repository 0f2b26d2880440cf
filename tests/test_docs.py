"""Every code block of README.md and docs/*.md is run or checked (issue 28), found by its fence
language, so a new page is covered the day it is added.

- ``sh``/``shell``/``bash``: each command is parsed; an ``ssm-profile`` command against the click
  command tree (command path, options, arguments), ``make`` against the Makefile's targets,
  ``pip install '.[x]'`` against pyproject.toml's extras. The commands that need no Terraform,
  node or network (generate, policy, regions, schema, drift, fleet, release) also run, in order,
  in a sandbox (see :func:`sandbox`) when the files they name are there; ``(exit N)`` in the
  line's comment is the exit code expected, else 0. Terraform's commands are covered by the suite's
  own tests (test_terraform.py, test_judges.py ...), not run again here.
- ``python``: executed in the sandbox; blocks calling Terraform carry the ``terraform`` marker,
  blocks using CDK the ``cdk`` marker.
- ``toml``/``yaml``/``json``: a spec (or a spec's sections) is loaded by the spec loader, a
  fleet file by the fleet loader, a judges' suppressions file by its loader, a pre-commit
  config names hooks this repository defines;
  anything else must at least parse.
- ``hcl``/``terraform``: parsed by python-hcl2, and as ``terraform fmt`` writes it (``terraform`` marker).
- ``make``: each recipe line is checked as a shell command.
- ``text`` and ``mermaid`` are output or pictures, not code.

A block that cannot run (it needs real AWS, say) is preceded by ``<!-- not-run: reason -->``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import hcl2
import pytest
import yaml

from conftest import EXAMPLES_DIR, MODULES, ROOT, invoke
from ssm_profile.cli.main import cli

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(\S.*?)\s*-->\s*\Z")
SHELL = {"sh", "shell", "bash", "console"}
NOT_CODE = {"text", "mermaid"}
#: Commands that need no Terraform, node or network: the docs test runs them.
OFFLINE_COMMANDS = {"generate", "policy", "regions", "schema", "drift", "fleet", "release"}
#: Programs a shell block may name besides ssm-profile, make and pip (checked by their own tools).
OTHER_PROGRAMS = {
    "terraform", "terraform-docs", "terragrunt", "pre-commit", "diff", "git", "cd", "mkdir", "cp", "cat", "ls",
    "export", "eval", "source", "python", "python3", ".venv/bin/python", "echo", "npm", "node", "unshare",
}
#: Names of the library the Python blocks may call only with Terraform at hand.
NEEDS_TERRAFORM = re.compile(r"\b(check_modules|plan_modules|validate_modules|run_all_module_tests|apply_modules|install_judges)\b")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: its page, first line, fence language, text and not-run reason (if any)."""

    page: Path
    line: int
    language: str
    text: str
    not_run: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def code_blocks(page: Path) -> list[CodeBlock]:
    """Every fenced block of ``page``, with the ``not-run`` marker right before it."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        marker = NOT_RUN.search(text[: match.start()].rstrip() + "\n")
        line = text.count("\n", 0, match.start()) + 1
        found.append(CodeBlock(page, line, match.group(1).lower(), match.group(2), marker.group(1) if marker else ""))
    return found


BLOCKS = [block for page in PAGES for block in code_blocks(page)]


def _params(languages: set[str]) -> list[object]:
    params = []
    for block in BLOCKS:
        if block.language not in languages or block.not_run:
            continue
        marks = []
        if block.language == "python" and NEEDS_TERRAFORM.search(block.text):
            marks.append(pytest.mark.terraform)
        if block.language == "python" and "ssm_profile.cdk" in block.text:
            marks.append(pytest.mark.cdk)
        params.append(pytest.param(block, id=block.id, marks=marks))
    return params


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder blocks run in, a git repository as a user's would be (fleet roots are
    named relative to it): copies of examples/ and modules/, and specs/prod.toml
    (examples/basic.toml), the spec the library page names."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copytree(EXAMPLES_DIR, tmp_path / "examples", ignore=shutil.ignore_patterns("node_modules", "cdk.out"))
    shutil.copytree(MODULES, tmp_path / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    (tmp_path / "specs").mkdir()
    shutil.copy2(EXAMPLES_DIR / "basic.toml", tmp_path / "specs" / "prod.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSM_PROFILE_PROVIDERS", "mirror")
    return tmp_path


# --- the pages themselves ------------------------------------------------------------------


def test_every_block_declares_a_language_this_test_knows() -> None:
    known = SHELL | NOT_CODE | {"python", "toml", "yaml", "json", "hcl", "terraform", "make"}
    unknown = [f"{b.id}: ```{b.language}" for b in BLOCKS if b.language not in known]
    assert unknown == [], "give each block a known fence language (or extend tests/test_docs.py)"


def test_not_run_markers_give_a_reason_and_are_rare() -> None:
    marked = [b for b in BLOCKS if b.not_run]
    assert all(len(b.not_run) >= 10 for b in marked), [b.id for b in marked]
    assert len(marked) <= len(BLOCKS) // 10


def test_the_readme_is_short_and_keeps_the_commands_ci_and_hooks_read() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    # .ci/run runs `make test`; the demo is `make demo`.
    assert re.search(r"^make test\b", readme, re.MULTILINE) and re.search(r"^make demo\b", readme, re.MULTILINE)


def test_links_between_pages_point_at_files_that_exist_or_are_being_written() -> None:
    # docs pages other branches add in parallel (issue 28): linked now, present after the merge.
    coming = {"trust.md", "folders.md", "grants.md", "check.md", "fleets-engines.md", "adoption.md"}
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists() and Path(target).name not in coming:
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


# --- shell ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One simple command of a shell line: its words and the exit code its comment expects."""

    words: tuple[str, ...]
    expected_exit: int


def shell_commands(text: str) -> Iterator[Command]:
    """The simple commands of a shell block, leading ``NAME=value`` words dropped."""
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.commenters = ""
        lexer.whitespace_split = True
        tokens, comment = [], ""
        for token in lexer:
            if token.startswith("#"):
                comment = line[line.index(token):]
                break
            tokens.append(token)
        expected = int(m.group(1)) if (m := re.search(r"\(exit (\d+)\)", comment)) else 0
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token in {";", "&&", "||", "|", "&", "(", ")"}:
                while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):
                    current.pop(0)
                if current:
                    yield Command(tuple(current), expected)
                current = []
            else:
                current.append(token)


def click_command(words: tuple[str, ...]) -> tuple[click.Command, list[str]]:
    """The click command ``ssm-profile WORDS`` names, and its own arguments; a usage error
    (unknown command, option or missing argument) raises ``click.UsageError``."""
    command: click.Command = cli
    args = list(words[1:])
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        sub = command.get_command(click.Context(command), args[0])
        if sub is None:
            raise click.UsageError(f"no command {args[0]!r} under {command.name!r}")
        command, args = sub, args[1:]
    if isinstance(command, click.Group) and not args:  # the bare group (shell completion) parses nothing
        return command, args
    try:
        with command.make_context(words[0], list(args), resilient_parsing=False):
            pass
    except click.BadParameter as error:
        if "does not exist" not in error.format_message():  # a user's file the page only names
            raise
    return command, args


def check_command(command: Command, makefile: str, extras: set[str]) -> None:
    program = command.words[0]
    if program == "ssm-profile":
        click_command(command.words)
    elif program == "make":
        for target in (w for w in command.words[1:] if "=" not in w and not w.startswith("-")):
            assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), f"no make target {target}"
    elif program in {"pip", "pip3"} or command.words[:3] == ("python", "-m", "pip"):
        for extra in re.findall(r"\[([\w,-]+)\]", " ".join(command.words)):
            assert set(extra.split(",")) <= extras, f"no extra {extra} in pyproject.toml"
    else:
        assert program in OTHER_PROGRAMS or program.startswith(("$", "./")), f"unknown program {program!r}"


def _project() -> tuple[str, set[str]]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"])
    return makefile, extras


def runnable(command: Command, cwd: Path) -> bool:
    """Whether the sandbox can run ``command``: offline, and the spec, fleet or module it names is there."""
    if command.words[0] != "ssm-profile" or len(command.words) < 2 or command.words[1] not in OFFLINE_COMMANDS:
        return False
    if "--engine" in command.words or "-h" in command.words or "--help" in command.words:
        return False  # cdk needs node; help is parsed already
    named = [w for w in command.words[2:] if not w.startswith("-")][:1]
    return command.words[1] in {"regions", "schema"} or (bool(named) and (cwd / named[0]).exists())


@pytest.mark.parametrize("block", _params(SHELL))
def test_shell_blocks_parse_and_the_offline_commands_run(block: CodeBlock, sandbox: Path) -> None:
    makefile, extras = _project()
    for command in shell_commands(block.text):
        check_command(command, makefile, extras)
        if runnable(command, sandbox):
            result = invoke(*command.words[1:])
            assert result.exit_code == command.expected_exit, f"{shlex.join(command.words)}: {result.stderr or result.stdout}"


def test_the_command_pages_run_their_commands(sandbox: Path) -> None:
    # The runner is not allowed to quietly run nothing: the README and the CLI page run commands.
    for page in ("README.md", "docs/cli.md"):
        commands = [c for b in BLOCKS if b.page == ROOT / page and b.language in SHELL for c in shell_commands(b.text)]
        assert sum(runnable(c, sandbox) for c in commands) >= 3, page


def test_the_shell_checker_catches_a_typo() -> None:
    makefile, extras = _project()
    for bad in ("ssm-profile generat examples/basic.toml -o out", "ssm-profile plan modules/basic --ofline", "make tset", "pip install '.[emulater]'"):
        with pytest.raises((click.UsageError, AssertionError)):
            for command in shell_commands(bad):
                check_command(command, makefile, extras)
    assert [c.expected_exit for c in shell_commands("ssm-profile drift  # stale here (exit 1)\nmake demo")] == [1, 0]


# --- Python --------------------------------------------------------------------------------


@pytest.mark.parametrize("block", _params({"python"}))
def test_python_blocks_run(block: CodeBlock, sandbox: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(block.text, block.id, "exec"), {"__name__": "__docs__"})


# --- data: specs, fleets, configs ----------------------------------------------------------

SPEC_SECTIONS = {"version", "regions", "partition", "role", "instance_profile", "managed_policies", "s3", "limits",
                 "default_host_management", "hybrid", "session_manager", "vpc_endpoints", "module"}


def parse_data(block: CodeBlock) -> object:
    if block.language == "toml":
        return tomllib.loads(block.text)
    if block.language == "yaml":
        return yaml.safe_load(block.text)
    return json.loads(block.text)


@pytest.mark.parametrize("block", _params({"toml", "yaml", "json"}))
def test_data_blocks_are_valid_for_what_they_are(block: CodeBlock, sandbox: Path) -> None:
    from ssm_profile import generate_fleet, load_spec

    data = parse_data(block)
    suffix = {"toml": ".toml", "yaml": ".yaml", "json": ".json"}[block.language]
    if isinstance(data, dict) and "accounts" in data and "spec" in data:
        fleet = sandbox / "examples" / "fleet" / f"docs-fleet{suffix}"
        fleet.write_text(block.text, encoding="utf-8")
        generate_fleet(fleet, sandbox / "live")
    elif isinstance(data, dict) and data and set(data) <= SPEC_SECTIONS:
        text = block.text
        if "version" not in data:  # a spec's sections: completed with the two required keys
            text = {"toml": 'version = 1\nregions = ["us-east-1"]\n', "yaml": "version: 1\nregions: [us-east-1]\n"}.get(block.language, "") + text
            if block.language == "json":
                text = json.dumps({"version": 1, "regions": ["us-east-1"], **data})
        spec = sandbox / f"docs-spec{suffix}"
        spec.write_text(text, encoding="utf-8")
        load_spec(spec)
    elif isinstance(data, dict) and "suppression" in data:
        from ssm_profile.judges.suppressions import load_suppressions

        suppressions = sandbox / "judges-suppressions.toml"
        suppressions.write_text(block.text, encoding="utf-8")
        assert load_suppressions(suppressions)
    elif isinstance(data, dict) and "repos" in data:
        hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
        named = {hook["id"] for repo in data["repos"] for hook in repo["hooks"]}
        assert named <= hooks


def test_the_spec_check_refuses_a_bad_spec(sandbox: Path) -> None:
    from ssm_profile import SpecError

    block = CodeBlock(ROOT / "README.md", 1, "toml", 'version = 1\nregions = ["us-east-9"]\n', "")
    with pytest.raises(SpecError):
        test_data_blocks_are_valid_for_what_they_are(block, sandbox)


# --- HCL and Makefile snippets -------------------------------------------------------------


@pytest.mark.parametrize("block", _params({"hcl", "terraform"}))
def test_hcl_blocks_parse(block: CodeBlock) -> None:
    hcl2.loads(block.text)


@pytest.mark.terraform
@pytest.mark.parametrize("block", _params({"hcl", "terraform"}))
def test_hcl_blocks_are_as_terraform_fmt_writes_them(block: CodeBlock) -> None:
    from ssm_profile.terraform.locate import TerraformBinary, find_terraform

    terraform = find_terraform()
    assert isinstance(terraform, TerraformBinary), "terraform fmt needs the binary"
    formatted = subprocess.run([str(terraform.path), "fmt", "-"], input=block.text, capture_output=True, text=True, check=True)
    assert formatted.stdout == block.text


@pytest.mark.parametrize("block", _params({"make"}))
def test_make_blocks_run_known_commands(block: CodeBlock) -> None:
    makefile, extras = _project()
    recipes = "\n".join(line.strip() for line in block.text.splitlines() if line.startswith("\t"))
    assert recipes, "a make block shows at least one recipe"
    for command in shell_commands(recipes):
        check_command(command, makefile, extras)


def test_blocks_are_found_on_every_page() -> None:
    assert {b.page.name for b in BLOCKS} >= {"README.md", "cli.md", "library.md", "spec.md"}
    assert os.path.commonpath([str(p) for p in PAGES]) == str(ROOT)


def test_the_architecture_page_maps_the_stages_the_architecture_test_enforces() -> None:
    from test_architecture import STAGES

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ((?:`[\w.]+`(?:, )?)+) \|", page, re.MULTILINE)
    documented = [tuple(re.findall(r"`([\w.]+)`", names)) for _, names in rows]
    assert [int(n) for n, _ in rows] == list(range(len(rows)))
    # the package itself is the empty name in STAGES; the page calls it `ssm_profile`
    assert documented == [tuple(name or "ssm_profile" for name in names) for names in STAGES]


def test_blocks_are_found_by_fence_language_with_their_not_run_marker(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n```sh\nssm-profile schema\n```\n\n<!-- not-run: needs a real AWS account -->\n"
        "```python\nimport boto3\n```\n\n```TOML\nversion = 1\n```\n",
        encoding="utf-8",
    )
    found = [(b.line, b.language, b.text, b.not_run) for b in code_blocks(page)]
    assert found == [
        (3, "sh", "ssm-profile schema\n", ""),
        (8, "python", "import boto3\n", "needs a real AWS account"),
        (12, "toml", "version = 1\n", ""),
    ]
