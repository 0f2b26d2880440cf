"""The README block terraform-docs owns: written as terraform-docs writes it, and left to it.

ssm-profile writes the block between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``
exactly as terraform-docs' default ``markdown table`` formatter does (its default settings:
anchors, escaping, HTML, sorting by name, ``required`` column). The format follows
terraform-docs' own templates and golden test outputs: ``format/templates/markdown_table_*.tmpl``,
``format/testdata/markdown/table-WithAnchor.golden``, ``table-Empty.golden``,
``template/anchor.go``, ``template/sanitizer.go``, ``terraform/load.go`` (what is listed and
how it is sorted) and ``print/config.go`` (``defaultSettings``), all in
https://github.com/terraform-docs/terraform-docs.

The text between the markers is excluded from every comparison (:func:`comparable_text`), so a
terraform-docs pre-commit hook rewriting it never makes a module look hand-edited or stale.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..tfmodule.document import Bare, Block, Document, TypeConstraint
from .expression import expression_text

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"

#: terraform-docs' default registry URL template (terraform/resource.go); version "latest"
#: because a ">=" constraint names no exact version (resourceVersion).
REGISTRY_URL = "https://registry.terraform.io/providers/{source}/latest/docs/{kind}/{type}"

_BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)


def comparable_text(name: str, text: str) -> str:
    """``text`` as the hand-edit guard, ``--check`` and ``drift`` compare it.

    For the module README the terraform-docs block's content is blanked out: that block
    belongs to terraform-docs once it runs. Every other file compares as written.
    """
    if name.rsplit("/", 1)[-1] != "README.md":
        return text
    return _BLOCK.sub(BEGIN + "\n" + END, text)


def _escape_name(name: str) -> str:
    # SanitizeName: with escape on, underscores are escaped in names and anchor links.
    return name.replace("_", "\\_")


def _anchor(kind: str, name: str) -> str:
    # createAnchorMarkdown: the <a name> is left unescaped on purpose, the link text and target are escaped.
    return f'<a name="{kind}_{name}"></a> [{_escape_name(name)}](#{_escape_name(kind + "_" + name)})'


_URL = re.compile(r"https?://[^\s)>\]]+")


def _escape_text(text: str) -> str:
    """sanitizeMarkdownTbl on one-line text: pipes and underscores escaped outside `code`.

    (EscapeCharacters spares underscores used as _emphasis_; descriptions here use none.)
    """
    if not text:
        return "n/a"
    parts = text.strip().split("`")
    for index in range(0, len(parts), 2):  # even parts are outside backticks
        part = parts[index].replace("|", "\\|").replace("_", "\\_")
        # NormalizeURLs: URLs keep their underscores.
        parts[index] = _URL.sub(lambda m: m.group(0).replace("\\", ""), part)
    return "`".join(parts).replace("\n", "<br/>")


def _code(text: str) -> str:
    # printFencedCodeBlock: one line in backticks; several in <pre> with <br/> line breaks.
    if "\n" in text:
        return "<pre>" + text.strip().replace("\n", "<br/>") + "</pre>"
    return f"`{text}`"


def _value(value: Any) -> str:
    # Input.GetValue: JSON, indented by two, HTML characters left as they are.
    return _code(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def _section(title: str, empty: str, header: str, rule: str, rows: list[str]) -> str:
    if not rows:
        return f"## {title}\n\n{empty}"
    return "\n".join([f"## {title}", "", header, rule, *rows])


def _registry_link(block: Block, source: str) -> str:
    _provider, _, kind_type = block.labels[0].partition("_")
    kind = "resources" if block.kind == "resource" else "data-sources"
    url = REGISTRY_URL.format(source=source, kind=kind, type=kind_type)
    return f"| [{block.labels[0]}.{block.labels[1]}]({url}) | {'resource' if block.kind == 'resource' else 'data source'} |"


def tfdocs_block(document: Document) -> str:
    """The README block, markers included, exactly as ``terraform-docs markdown table`` writes it."""
    terraform = document.of_kind("terraform")[0]
    providers = terraform.body["required_providers"][0].body
    requirements = [_row(_anchor("requirement", "terraform"), terraform.body["required_version"])]
    requirements += [_row(_anchor("requirement", name), spec["version"]) for name, spec in sorted(providers.items())]
    # Providers are those the resources and data sources use, with their aliases (loadProviders).
    used: dict[tuple[str, str], str] = {}
    for block in document.blocks:
        if block.kind in ("resource", "data"):
            name = block.labels[0].split("_", 1)[0]
            reference = block.body.get("provider")
            alias = reference.text.split(".", 1)[1] if isinstance(reference, Bare) and "." in reference.text else ""
            used[(name, alias)] = providers[name]["version"] if name in providers else ""
    provider_rows = [
        _row(_anchor("provider", f"{name}.{alias}" if alias else name), version or "n/a") for (name, alias), version in sorted(used.items())
    ]
    # Resources: managed before data sources, each sorted by address (sortResourcesByType).
    listed = [b for b in document.blocks if b.kind in ("resource", "data")]
    listed.sort(key=lambda b: (b.kind != "resource", f"{b.labels[0]}.{b.labels[1]}"))
    sources = {name: spec.get("source", f"hashicorp/{name}") for name, spec in providers.items()}
    resource_rows = [_registry_link(b, sources.get(b.labels[0].split("_", 1)[0], "hashicorp/aws")) for b in listed]
    inputs = sorted(document.of_kind("variable"), key=lambda b: b.labels[0])
    input_rows = [
        f"| {_anchor('input', b.labels[0])} | {_escape_text(b.body.get('description', ''))} | {_code(_type_text(b.body['type']))} | "
        f"{_value(b.body['default']) if 'default' in b.body else 'n/a'} | {'no' if 'default' in b.body else 'yes'} |"
        for b in inputs
    ]
    outputs = sorted(document.of_kind("output"), key=lambda b: b.labels[0])
    output_rows = [f"| {_anchor('output', b.labels[0])} | {_escape_text(b.body.get('description', ''))} |" for b in outputs]
    sections = [
        _section("Requirements", "No requirements.", "| Name | Version |", "| ---- | ------- |", requirements),
        _section("Providers", "No providers.", "| Name | Version |", "| ---- | ------- |", provider_rows),
        _section("Modules", "No modules.", "| Name | Source | Version |", "| ---- | ------ | ------- |", []),
        _section("Resources", "No resources.", "| Name | Type |", "| ---- | ---- |", resource_rows),
        _section(
            "Inputs",
            "No inputs.",
            "| Name | Description | Type | Default | Required |",
            "| ---- | ----------- | ---- | ------- | :------: |",
            input_rows,
        ),
        _section("Outputs", "No outputs.", "| Name | Description |", "| ---- | ----------- |", output_rows),
    ]
    return BEGIN + "\n" + "\n\n".join(sections) + "\n" + END


def _row(name: str, version: str) -> str:
    return f"| {name} | {version} |"


def _type_text(type_constraint: Any) -> str:
    return expression_text(type_constraint) if isinstance(type_constraint, (Bare, TypeConstraint)) else str(type_constraint)
