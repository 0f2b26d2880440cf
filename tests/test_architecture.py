"""The shape issue 12 asks the package to keep, checked on the source itself.

No import cycle (lazy and TYPE_CHECKING imports included: every import statement counts), no
module over 450 lines and no function over 60 without a reason written next to it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import PACKAGE

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
# Generated code (Jinja's precompiled HCL template) is not ours to lay out.
GENERATED = ("jinja2-",)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if any(part.startswith(GENERATED) for part in path.parts):
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the package modules it imports anywhere in its source."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
                for alias in node.names:
                    imported = f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                    if imported in modules and imported != name:
                        graph[name].add(imported)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules and a.name != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, as the path that closes it (depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                walked = [*path, name]
                found.append([*walked[walked.index(target):], target])
            elif target not in state:
                visit(target, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    return found


def test_the_scanner_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(_modules())
    assert graph["ssm_profile"] >= {"ssm_profile.pipeline"}  # the scanner sees TYPE_CHECKING imports
    assert cycles(graph) == []


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_and_functions_stay_small(name: str) -> None:
    path = _modules()[name]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path.name}: {len(lines)} lines"
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            reason = "long:" in lines[node.lineno - 1] or "long:" in lines[node.lineno - 2]
            assert length <= MAX_FUNCTION_LINES or reason, f"{path.name}: {node.name} is {length} lines with no reason"


# The pipeline's stages, lowest first: a module may import its own stage and lower ones, never a
# higher one. A name is a module or a package (its modules included); the longest name that
# covers a module gives its stage. The release record, versions and changes sit below the pipeline
# (``generate`` reads a module's release record), publishing a release sits above it (it runs
# ``generate`` and the writer).
STAGES: tuple[tuple[str, ...], ...] = (
    ("_version", "_signals", "errors"),
    ("intake",),  # the bounded reader: every file a user hands us is read there
    ("aws",),
    ("spec",),
    ("grants",),
    ("tfmodule",),
    ("render",),
    ("output",),
    ("release",),
    ("pipeline",),
    ("adopt",),  # imports and spec-from: read a module's spec; fleets write imports per account root
    ("release.publish", "fleet", "drift"),
    ("terraform",),
    ("judges",),
    ("check", "cdk"),
    ("cli",),
    ("", "__main__"),  # the package itself: its lazy exports name every stage; the entry point
)


def stage_of(module: str) -> int:
    name = module.removeprefix("ssm_profile").removeprefix(".")
    covering = [
        (len(prefix), rank)
        for rank, prefixes in enumerate(STAGES)
        for prefix in prefixes
        if name == prefix or name.startswith(prefix + ".") or (prefix == "" and name == "")
    ]
    assert covering, f"{module} is in no stage: add it to STAGES"
    return max(covering)[1]


def test_the_stage_map_ranks_by_the_longest_name() -> None:
    assert stage_of("ssm_profile.release.record") < stage_of("ssm_profile.pipeline") < stage_of("ssm_profile.release.publish")
    assert stage_of("ssm_profile.spec.model") == stage_of("ssm_profile.spec")


def test_a_lower_stage_never_imports_a_higher_one() -> None:
    graph = import_graph(_modules())
    upward = [
        f"{name} (stage {stage_of(name)}) imports {target} (stage {stage_of(target)})"
        for name, targets in sorted(graph.items())
        for target in sorted(targets)
        if stage_of(target) > stage_of(name)
    ]
    assert upward == []


def test_the_package_top_level_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
