"""The CDK engine, against the native engine and real Terraform (the construct: test_cdk_construct.py).

Nothing here skips: without cdktn (or cdktf) and node these tests fail, and say what to install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from conftest import EXAMPLES, MODULES, cached_plan, run
from ssm_profile import GenerationError, SpecError, generate, write_module
from ssm_profile.output.manifest import MANIFEST_FILE
from ssm_profile.render import cdk_engine, tfjson
from ssm_profile.terraform.harness import normalise_plan
from ssm_profile.tfmodule.document import Bare, Block, Document, Op, Ref

pytestmark = pytest.mark.cdk


def cdk():  # type: ignore[no-untyped-def]
    return cdk_engine.cdk_library()


@pytest.fixture(scope="session")
def cdk_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cdk-modules")
    for name, spec in EXAMPLES.items():
        write_module(generate(spec, engine="cdk"), root / name)
    return root


# --- the engine, without Terraform -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_cdk_module_is_the_native_json_module(name: str) -> None:
    native = generate(EXAMPLES[name], format="json", source="spec")
    synthesized = generate(EXAMPLES[name], engine="cdk", source="spec")
    assert sorted(synthesized.files) == sorted(native.files)
    for file, text in native.files.items():
        if file.endswith(".tf.json"):
            assert json.loads(synthesized.files[file]) == json.loads(text), file
        elif file != MANIFEST_FILE:  # README.md and whatever else the pipeline adds: engine-independent
            assert synthesized.files[file] == text, file
    manifest, native_manifest = synthesized.manifest, native.manifest
    assert (manifest.engine, native_manifest.engine) == ("cdk", "native")
    assert msgspec.structs.replace(manifest, engine="native", files={}) == msgspec.structs.replace(native_manifest, files={})


def test_cdk_module_is_clean_and_deterministic() -> None:
    first = generate(EXAMPLES["all-options"], engine="cdk")
    second = generate(EXAMPLES["all-options"], engine="cdk")
    assert first.files == second.files
    text = "".join(text for name, text in first.files.items() if name.endswith(".tf.json"))
    for trace in ("backend", "cdktn", "cdktf", "metadata", "uniqueId", cdk_engine.STACK_ID, "tfstate"):
        assert trace not in text, trace
    main = json.loads(first.files["main.tf.json"])
    assert "this" in main["resource"]["aws_iam_role"]
    assert first.format == "json" and first.engine == "cdk"


def test_every_block_kind_is_declared_generically() -> None:
    # Kinds and values the document may grow: meta-arguments, moved/import/check blocks,
    # nulls, literal "${" text, several blocks of one kind.
    document = Document(
        (
            Block("locals", body={"nothing": None, "literal": "${not-an-expression}", "list": [None, 1, True]}),
            Block(
                "resource",
                ("aws_iam_role", "this"),
                {
                    "name": "r",
                    "provider": Ref("aws.use1"),
                    "depends_on": [Ref("aws_iam_policy.p")],
                    "lifecycle": [Block("lifecycle", body={"ignore_changes": [Ref("tags")]})],
                },
            ),
            Block("resource", ("aws_iam_policy", "p"), {"name": "p", "description": None}),
            Block("moved", body={"from": Ref("aws_iam_role.old"), "to": Ref("aws_iam_role.this")}),
            Block("moved", body={"from": Ref("aws_iam_policy.old"), "to": Ref("aws_iam_policy.p")}),
            Block("import", body={"to": Ref("aws_iam_policy.p"), "id": "arn:aws:iam::111122223333:policy/p"}),
            Block("variable", ("optional",), {"type": Bare("string"), "default": None}, file="variables"),
            Block("output", ("nothing",), {"value": None}, file="outputs"),
            Block(
                "terraform",
                body={
                    "required_providers": [
                        Block(
                            "required_providers",
                            body={"aws": {"source": "hashicorp/aws", "configuration_aliases": [Ref("aws.use1")]}},
                        )
                    ]
                },
                file="versions",
            ),
        )
    )
    synthesized = cdk_engine.render_files(document, "h")
    native = tfjson.render_files(document, "h")
    assert {k: json.loads(v) for k, v in synthesized.items()} == {k: json.loads(v) for k, v in native.items()}
    # check blocks are labelled: Terraform JSON keys them by name
    checked = Document((Block("check", ("health",), {"assert": [Block("assert", body={"condition": Op("==", 1, 1), "error_message": "m"})]}),))
    main = json.loads(cdk_engine.render_files(checked, "h")["main.tf.json"])
    assert main["check"] == {"health": {"assert": [{"condition": "${1 == 1}", "error_message": "m"}]}}


def test_what_the_synth_adds_beyond_the_document_is_an_error() -> None:
    synthesized = {"//": {}, "resource": {"aws_iam_role": {"this": {"name": "r"}}}, "provider": {"aws": [{"region": "x"}]}}
    document = Document((Block("resource", ("aws_iam_role", "this"), {"name": "r"}),))
    with pytest.raises(GenerationError, match=re.escape('added {"provider"')):
        cdk_engine.module_files(synthesized, document, "h")
    with pytest.raises(GenerationError, match=re.escape("aws_iam_policy.p is missing")):
        cdk_engine.module_files(synthesized, Document((Block("resource", ("aws_iam_policy", "p")),)), "h")


def test_cdk_engine_writes_only_terraform_json() -> None:
    with pytest.raises(SpecError, match="--format: 'hcl' is not a format of the cdk engine"):
        generate(EXAMPLES["basic"], engine="cdk", format="hcl")
    with pytest.raises(SpecError, match="--engine: 'pulumi' is not an engine; allowed: native, cdk"):
        generate(EXAMPLES["basic"], engine="pulumi")


def test_missing_extra_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in cdk_engine.CDK_LIBRARIES:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: import raises
    with pytest.raises(cdk_engine.CdkNotInstalled) as caught:
        generate(EXAMPLES["basic"], engine="cdk")
    assert isinstance(caught.value, GenerationError) and isinstance(caught.value, ImportError)
    code, _, err = run("generate", str(EXAMPLES["basic"]), "-o", str(tmp_path / "m"), "--engine", "cdk")
    assert code == 2
    assert err == (
        "ssm-profile: error: --engine cdk: needs CDK Terrain (cdktn) or cdktf, and neither is installed; "
        "install the extra: pip install 'ssm-profile[cdk]'\n"
    )
    assert not (tmp_path / "m").exists()


def test_cli_leaves_nothing_behind_and_prints_no_node_warning(tmp_path: Path) -> None:
    work, scratch = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    (work / "spec.toml").write_text('version = 1\nregions = ["us-east-2"]\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")}
    env["TMPDIR"] = str(scratch)
    result = subprocess.run(
        [sys.executable, "-m", "ssm_profile.cli.main", "generate", "spec.toml", "-o", "mod", "--engine", "cdk"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("mod: wrote ")
    written = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()}
    expected = generate(work / "spec.toml", engine="cdk").files
    assert written == {"spec.toml", *(f"mod/{name}" for name in expected)}
    assert {"mod/main.tf.json", "mod/versions.tf.json"} <= written
    assert list(scratch.iterdir()) == []


def test_native_engine_never_imports_cdk() -> None:
    code = (
        "import sys, ssm_profile\n"
        f"ssm_profile.generate({str(EXAMPLES['all-options'])!r})\n"
        f"ssm_profile.generate({str(EXAMPLES['all-options'])!r}, format='json')\n"
        "from ssm_profile.cli.main import cli\n"
        "loaded = sorted(m for m in ('cdktn', 'cdktf', 'jsii', 'constructs', 'ssm_profile.render.cdk_engine') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- real Terraform ------------------------------------------------------------------------


@pytest.mark.terraform
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_cdk_engine_plans_exactly_like_the_native_engine(name: str, cdk_modules: Path) -> None:
    assert normalise_plan(cached_plan(cdk_modules / name)) == normalise_plan(cached_plan(MODULES / name))
