"""Terraform's machine-readable output read as data: diagnostics and planned changes.

``terraform validate -json`` prints one JSON document with a ``diagnostics`` list;
``terraform plan -json`` prints one JSON message per line, among them ``diagnostic`` and
``planned_change`` messages. https://developer.hashicorp.com/terraform/internals/machine-readable-ui
Text output (``init``) names a diagnostic's file on a line ``on FILE line N``. Pure: no disk,
no Terraform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

#: ``planned_change`` actions as the ``actions`` lists of ``terraform show -json``.
SHOW_ACTIONS = {
    "create": ["create"],
    "update": ["update"],
    "delete": ["delete"],
    "replace": ["delete", "create"],
    "read": ["read"],
    "noop": ["no-op"],
}
_TEXT_FILE = re.compile(r"^[│\s]*on (\S+) line [0-9]+")


def _messages(output: str) -> Iterator[dict[str, Any]]:
    """Every JSON object of ``output``: the whole text as one document, else one per line."""
    try:
        whole = json.loads(output)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        yield whole
        return
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                yield message


def diagnostics(output: str) -> list[dict[str, Any]]:
    """The diagnostics of ``validate -json`` or ``plan -json`` output, in order."""
    found: list[dict[str, Any]] = []
    for message in _messages(output):
        if isinstance(message.get("diagnostics"), list):
            found.extend(d for d in message["diagnostics"] if isinstance(d, dict))
        elif message.get("type") == "diagnostic" and isinstance(message.get("diagnostic"), dict):
            found.append(message["diagnostic"])
    return found


def error_line(diagnostic: dict[str, Any]) -> str:
    """A diagnostic as one line: ``Error: <summary> <detail>``."""
    return " ".join(f"Error: {diagnostic.get('summary', '')} {diagnostic.get('detail', '')}".split())


def first_error(output: str) -> str | None:
    """The first error diagnostic of ``output`` as one line, or None when it holds none."""
    for diagnostic in diagnostics(output):
        if diagnostic.get("severity") == "error":
            return error_line(diagnostic)
    return None


def error_files(output: str) -> list[tuple[str, int, str]]:
    """``(file, line, one-line message)`` of each error in ``output``: from JSON diagnostics'
    ranges, else from the ``on FILE line N`` lines of Terraform's text output."""
    found = [
        (str((d.get("range") or {}).get("filename", "")), int(((d.get("range") or {}).get("start") or {}).get("line", 0)), error_line(d))
        for d in diagnostics(output)
        if d.get("severity") == "error"
    ]
    if found:
        return found
    text: list[tuple[str, int, str]] = []
    summary = ""
    for line in output.splitlines():
        stripped = line.strip().strip("│╷╵").strip()
        if stripped.startswith("Error:"):
            summary = stripped
        match = _TEXT_FILE.match(line)
        if match and summary:
            line_number = re.search(r"line ([0-9]+)", line)
            text.append((match.group(1).rstrip(","), int(line_number.group(1)) if line_number else 0, summary))
    return text


def planned_changes(output: str) -> list[dict[str, Any]]:
    """The ``planned_change`` messages of ``plan -json`` output as ``show -json``-shaped
    resource changes (``address``, ``module_address``, ``change.actions``)."""
    changes = []
    for message in _messages(output):
        if message.get("type") != "planned_change":
            continue
        change = message.get("change") or {}
        resource = change.get("resource") or {}
        action = str(change.get("action", ""))
        entry: dict[str, Any] = {"address": resource.get("addr", ""), "change": {"actions": SHOW_ACTIONS.get(action, [action])}}
        if resource.get("module"):
            entry["module_address"] = resource["module"]
        changes.append(entry)
    return changes
