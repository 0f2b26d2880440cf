"""Terraform's errors as one line: ``validate -json`` diagnostics read as data, other output scraped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssm_profile.errors import TerraformError
from ssm_profile.terraform.diagnostics import first_error as _json_error
from ssm_profile.terraform.locate import find_terraform
from ssm_profile.terraform.runner import BinaryRunner, _first_error

# terraform 1.11 validate -json on an output naming an undeclared variable (snippet trimmed).
VALIDATE_JSON = json.dumps(
    {
        "format_version": "1.0",
        "valid": False,
        "error_count": 1,
        "warning_count": 1,
        "diagnostics": [
            {"severity": "warning", "summary": "Deprecated attribute", "detail": "Use x instead."},
            {
                "severity": "error",
                "summary": "Reference to undeclared input variable",
                "detail": 'An input variable with the name "z" has not been declared.\nDid you mean "x"?',
                "range": {"filename": "main.tf", "start": {"line": 6, "column": 11, "byte": 70}, "end": {"line": 6, "column": 16, "byte": 75}},
            },
        ],
    },
    indent=2,
)


def test_the_first_error_diagnostic_is_one_line() -> None:
    assert _json_error(VALIDATE_JSON) == (
        'Error: Reference to undeclared input variable An input variable with the name "z" has not been declared. Did you mean "x"?'
    )


@pytest.mark.parametrize("stdout", ["", "not json", '{"valid": true, "diagnostics": []}', "[1, 2]"])
def test_output_without_an_error_diagnostic_falls_back_to_the_text(stdout: str) -> None:
    assert _json_error(stdout) is None


def test_box_drawn_text_still_gives_its_first_error() -> None:
    text = "╷\n│ Error: Unsupported argument\n│\n│   on main.tf line 3:\n│    3:   nme = 1\n│\n│ An argument named \"nme\" is not expected here.\n╵\n"
    assert _first_error(text) == 'Error: Unsupported argument An argument named "nme" is not expected here.'


@pytest.mark.terraform
def test_real_validate_failure_is_one_line_from_the_json_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "x" {\n  type = string\n}\noutput "y" {\n  value = var.z\n}\n', encoding="utf-8")
    with pytest.raises(TerraformError) as raised:
        BinaryRunner(find_terraform("binary").path, providers="terraform").validate(tmp_path)
    message = str(raised.value)
    assert message.startswith("terraform validate failed: Error: Reference to undeclared input variable An input variable")
    assert '"z"' in message and "\n" not in message


def test_a_binary_is_asked_its_version_once(tmp_path: Path) -> None:
    # check labels its lines with the version, then asks whether it can run the module's tests:
    # one `terraform version -json` child, not one per question. A failed answer is not kept.
    calls = tmp_path / "calls"
    script = tmp_path / "terraform"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{calls}"\n[ -f "{tmp_path}/broken" ] && exit 1\necho \'{{"terraform_version": "1.11.0"}}\'\n')
    script.chmod(0o755)
    runner = BinaryRunner(script, providers="terraform")
    (tmp_path / "broken").touch()
    with pytest.raises(TerraformError, match="terraform version failed"):
        runner.version()
    (tmp_path / "broken").unlink()
    assert [runner.version(), runner.version()] == ["1.11.0", "1.11.0"]
    assert calls.read_text().splitlines() == ["version", "version"]
