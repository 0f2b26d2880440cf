"""CDK renderer: the same :class:`~ssm_profile.tfmodule.document.Document` synthesised through CDK for Terraform.

The CDK engine uses CDK Terrain (``cdktn``, which continues the CDK for Terraform API), else
``cdktf``, and only their core package: every block is declared raw — ``TerraformResource``,
``TerraformDataSource``, ``TerraformVariable``, ``TerraformOutput``, ``TerraformLocal``, and a
raw element for any other block kind — with its body set through ``add_override``. No typed
provider package is used, so no provider schema and no IAM rule lives here: values are written
by :func:`ssm_profile.render.tfjson.json_value`, exactly as the native Terraform JSON renderer
writes them.

The stack is synthesised into a temporary folder, then cut back to a clean module: CDK's local
backend and ``//`` metadata are dropped, logical IDs are the document's names (so addresses are
``aws_iam_role.this``, never a stack name), and blocks go to the document's files. Anything the
synth adds beyond that is an error rather than output.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import GenerationError
from ..tfmodule.document import Block, Document
from .tfjson import body_json, json_value

#: The CDK for Terraform libraries the engine can drive, in order of preference.
CDK_LIBRARIES = ("cdktn", "cdktf")
INSTALL_HINT = "pip install 'ssm-profile[cdk]'"
STACK_ID = "ssm-profile-synth"

#: Block kinds Terraform merges into one object; every other unlabelled kind is a list of blocks.
MERGED_KINDS = ("terraform", "locals")

#: CDK drops ``None`` on its way through jsii (JavaScript ``undefined`` deletes a key), so nulls
#: travel as the Terraform expression ``null`` and are turned back into JSON nulls after synth.
NULL_EXPRESSION = "${null}"

#: jsii prints a boxed banner on stderr whenever its Node release is deprecated, end-of-life or
#: untested (Node 20 is end-of-life for jsii): noise for someone generating a module. The
#: end-of-life switch takes the Node majors to silence, so it lists every plausible one.
_QUIET_NODE = {
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_KNOWN_BROKEN_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(str(major) for major in range(10, 100)),
}
#: Settings the CDK app reads from its environment that would change what, or where, it writes.
_CDK_ENVIRONMENT = ("SYNTH_HCL_OUTPUT", "CDKTF_OUTDIR", "CDKTF_TARGET_STACK_ID", "CDKTF_CONTEXT_JSON")


class CdkNotInstalled(GenerationError, ImportError):
    """Neither ``cdktn`` nor ``cdktf`` can be imported. Exit code 2."""


@contextmanager
def node_environment() -> Iterator[None]:
    """The environment for starting jsii's Node process, restored afterwards.

    jsii starts one Node process per Python process, on the first import of a jsii library,
    and that process keeps the environment it was started with: setting these only around
    the import keeps the user's own environment untouched.
    """
    keys = (*_QUIET_NODE, *_CDK_ENVIRONMENT)
    saved = {key: os.environ.get(key) for key in keys}
    try:
        for key, value in _QUIET_NODE.items():
            os.environ.setdefault(key, value)
        for key in _CDK_ENVIRONMENT:
            os.environ.pop(key, None)
        yield
    finally:
        for key, before in saved.items():
            if before is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = before


def cdk_library() -> ModuleType:
    """The CDK for Terraform library to use: ``cdktn`` if installed, else ``cdktf``."""
    for name in CDK_LIBRARIES:
        if sys.modules.get(name) is not None:
            return sys.modules[name]
    with node_environment():
        for name in CDK_LIBRARIES:
            try:
                return importlib.import_module(name)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise CdkNotInstalled(
                        f"--engine cdk: {name} is installed but {error.name} is missing; reinstall with: {INSTALL_HINT}"
                    ) from None
    raise CdkNotInstalled(
        f"--engine cdk: needs CDK Terrain (cdktn) or cdktf, and neither is installed; install the extra: {INSTALL_HINT}"
    )


def render_files(document: Document, header: str) -> dict[str, str]:
    """Each non-empty file of the module as Terraform JSON synthesised by CDK, keyed by file name."""
    cdk = cdk_library()
    with tempfile.TemporaryDirectory(prefix="ssm-profile-cdk-") as outdir:
        app = cdk.App(outdir=outdir, stack_traces=False)
        stack = cdk.TerraformStack(app, STACK_ID)
        declare_document(stack, document, cdk)
        app.synth()
        synthesized = _read_synthesized(Path(outdir))
    return module_files(synthesized, document, header)


def declare_document(scope: Any, document: Document, cdk: ModuleType) -> dict[str, Any]:
    """Declare every block of ``document`` as a raw CDK element in ``scope``.

    Returns the elements by address (``aws_iam_role.this``, ``local.tags``, ``variable.tags`` ...).
    """
    elements: dict[str, Any] = {}
    for block in document.blocks:
        elements.update(declare_block(scope, block, cdk, construct_id=unused_construct_id(block.address, scope)))
    return elements


def declare_block(scope: Any, block: Block, cdk: ModuleType, construct_id: str = "") -> dict[str, Any]:
    """Declare one block in ``scope``, its logical ID being the block's own name.

    Resources, data sources, variables, outputs and locals are declared through the core
    classes; any other kind (``terraform``, ``moved``, ``check``, ``import`` ...) through a raw
    element that contributes the block as Terraform JSON.
    """
    construct_id = construct_id or block.address
    body = {key: _null_safe(value) for key, value in body_json(block).items()}
    if block.kind in ("resource", "data"):
        if len(block.labels) != 2:
            raise GenerationError(f"{block.address}: a {block.kind} block needs a type and a name")
        kind = cdk.TerraformResource if block.kind == "resource" else cdk.TerraformDataSource
        element = kind(scope, construct_id, terraform_resource_type=block.labels[0])
        element.override_logical_id(block.labels[1])
        _override(element, block, body)
        return {block.address: element}
    if block.kind == "variable":
        element = cdk.TerraformVariable(scope, construct_id)
        element.override_logical_id(block.labels[0])
        _override(element, block, body)
        return {block.address: element}
    if block.kind == "output":
        element = cdk.TerraformOutput(scope, construct_id, value=body.pop("value", NULL_EXPRESSION))
        element.override_logical_id(block.labels[0])
        _override(element, block, body)
        return {block.address: element}
    if block.kind == "locals":
        elements = {}
        for key, value in body.items():
            local = cdk.TerraformLocal(scope, unused_construct_id(f"local.{key}", scope), value)
            local.override_logical_id(key)
            elements[f"local.{key}"] = local
        return elements
    return {block.address: _raw_element_class(cdk)(scope, construct_id, block.kind, _placed(block, body))}


def _override(element: Any, block: Block, body: dict[str, Any]) -> None:
    for key, value in body.items():
        if "." in key:  # add_override reads a dot as a path separator
            raise GenerationError(f"{block.address}: attribute name {key!r} cannot be declared through CDK")
        element.add_override(key, value)


def cdk_value(value: Any) -> Any:
    """A document value as CDK takes it: Terraform JSON, with nulls as the ``null`` expression."""
    return _null_safe(json_value(value))


def _null_safe(value: Any) -> Any:
    if value is None:
        return NULL_EXPRESSION
    if isinstance(value, list):
        return [_null_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _null_safe(item) for key, item in value.items()}
    return value


def _restore_nulls(value: Any) -> Any:
    if value == NULL_EXPRESSION:
        return None
    if isinstance(value, list):
        return [_restore_nulls(item) for item in value]
    if isinstance(value, dict):
        return {key: _restore_nulls(item) for key, item in value.items()}
    return value


def unused_construct_id(wanted: str, scope: Any) -> str:
    """A construct ID unique in ``scope``: repeated unlabelled blocks (``moved``) share an address."""
    candidate, number = wanted, 1
    while scope.node.try_find_child(candidate) is not None:
        number += 1
        candidate = f"{wanted}#{number}"
    return candidate


def _placed(block: Block, body: dict[str, Any]) -> dict[str, Any]:
    """The Terraform JSON fragment a block contributes at the top level of a file."""
    if block.labels:
        fragment: Any = body
        for label in reversed(block.labels):
            fragment = {label: fragment}
        return {block.kind: fragment}
    if block.kind in MERGED_KINDS:
        return {block.kind: body}
    return {block.kind: [body]}


@functools.cache
def _raw_element_class(cdk: ModuleType) -> type:
    class RawBlock(cdk.TerraformElement):  # type: ignore[misc, name-defined]
        """Any block kind the core classes do not model, contributed as Terraform JSON."""

        def __init__(self, scope: Any, construct_id: str, kind: str, fragment: dict[str, Any]) -> None:
            super().__init__(scope, construct_id, kind)
            self._fragment = fragment

        def to_terraform(self) -> Any:
            return copy.deepcopy(self._fragment)

    return RawBlock


def _read_synthesized(outdir: Path) -> dict[str, Any]:
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    path: str = manifest["stacks"][STACK_ID]["synthesizedStackPath"]
    if not path.endswith(".tf.json"):
        raise GenerationError(f"--engine cdk: the CDK synth wrote {Path(path).name}, not Terraform JSON")
    stack: dict[str, Any] = json.loads((outdir / path).read_text(encoding="utf-8"))
    return stack


def module_files(synthesized: dict[str, Any], document: Document, header: str) -> dict[str, str]:
    """Cut a synthesised stack back to the module: the document's blocks, in the document's files.

    Drops what CDK adds to every stack (``//`` metadata, the local backend) and fails on
    anything else the synth holds beyond the document's blocks.
    """
    remaining = copy.deepcopy(synthesized)
    remaining.pop("//", None)
    if not any("backend" in block.body for block in document.of_kind("terraform")):
        remaining.get("terraform", {}).pop("backend", None)
    roots: dict[str, dict[str, Any]] = {}
    for name, blocks in document.files().items():
        for block in blocks:
            body = _restore_nulls(_take(remaining, block))
            _merge(roots.setdefault(name, {"//": header}), _placed(block, body))
    extra = _pruned(remaining)
    if extra:
        raise GenerationError(f"--engine cdk: the CDK synth added {json.dumps(extra, sort_keys=True)} beyond the module")
    return {f"{name}.tf.json": json.dumps(root, indent=2, ensure_ascii=False) + "\n" for name, root in roots.items()}


def _take(remaining: dict[str, Any], block: Block) -> dict[str, Any]:
    try:
        if block.labels:
            node = remaining[block.kind]
            for label in block.labels[:-1]:
                node = node[label]
            body: dict[str, Any] = node.pop(block.labels[-1])
            body.pop("//", None)  # CDK's per-element metadata (construct path, unique ID)
            return body
        if block.kind in MERGED_KINDS:
            return {key: remaining[block.kind].pop(key) for key in block.body}
        first: dict[str, Any] = remaining[block.kind].pop(0)
        return first
    except (KeyError, IndexError):
        raise GenerationError(f"--engine cdk: {block.address} is missing from the CDK synth") from None


def _merge(root: dict[str, Any], fragment: dict[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(root.get(key), dict):
            _merge(root[key], value)
        elif isinstance(value, list) and isinstance(root.get(key), list):
            root[key].extend(value)
        else:
            root[key] = value


def _pruned(value: Any) -> Any:
    """``value`` without empty objects and lists left behind once every block was taken."""
    if isinstance(value, dict):
        kept = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in ({}, [])}
    if isinstance(value, list):
        return [item for item in (_pruned(item) for item in value) if item not in ({}, [])]
    return value
