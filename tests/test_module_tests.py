"""Every generated module carries terraform test files; they pass offline and catch what
scanners miss (a wildcard Region in a bucket ARN)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, MODULES, run
from ssm_profile import CheckFailed, generate
from ssm_profile.terraform.harness import run_module_tests

pytestmark = pytest.mark.terraform


def test_every_module_ships_its_tests() -> None:
    for name, spec in EXAMPLES.items():
        files = generate(spec).files
        assert {"tests/policies.tftest.hcl", "tests/wiring.tftest.hcl"} <= set(files), name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_module_tests_pass_offline(name: str) -> None:
    code, out, err = run("test", str(MODULES / name))
    assert code == 0, err
    assert "Success!" in out and "0 failed" in out


def mutable_copy(name: str, tmp_path: Path) -> Path:
    """A copy of the committed module ``name`` with only its policy tests: every mutation below is
    caught there (the wiring tests, which start a mock provider per Region, prove nothing here)."""
    module = tmp_path / "module"
    shutil.copytree(MODULES / name, module)
    (module / "tests" / "wiring.tftest.hcl").unlink()
    return module


def test_module_tests_catch_a_wildcard_region(tmp_path: Path) -> None:
    module = mutable_copy("vpc-endpoint-multi-region", tmp_path)
    main = module / "main.tf"
    text = main.read_text()
    assert '"arn:aws:s3:::aws-ssm-eu-west-1/*"' in text
    main.write_text(text.replace('"arn:aws:s3:::aws-ssm-eu-west-1/*"', '"arn:aws:s3:::aws-ssm-*/*"'))
    with pytest.raises(CheckFailed, match="wildcard in a bucket name"):
        run_module_tests(module)


def test_module_tests_catch_an_unexpected_action(tmp_path: Path) -> None:
    module = mutable_copy("existing-role", tmp_path)
    main = module / "main.tf"
    main.write_text(main.read_text().replace('["s3:GetObject", "s3:PutObject"]', '["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]'))
    with pytest.raises(CheckFailed, match="other actions than expected"):
        run_module_tests(module)


def test_module_tests_catch_the_old_china_endpoint_name(tmp_path: Path) -> None:
    # The name the module used to write: no such service exists in China (issue 11).
    module = mutable_copy("china", tmp_path)
    main = module / "main.tf"
    text = main.read_text()
    assert '"com.amazonaws.cn-north-1.ssm"' in text
    main.write_text(text.replace('"com.amazonaws.cn-north-1.ssm"', '"cn.com.amazonaws.cn-north-1.ssm"'))
    with pytest.raises(CheckFailed, match=r"tests/policies.tftest.hcl: run \"\w+\": .*com\.amazonaws\.cn-north-1\.ssm\."):
        run_module_tests(module)
