"""Every generated module carries terraform test files; they pass offline and catch what
scanners miss (a wildcard Region in a bucket ARN)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, MODULES, run
from ssm_profile import CheckFailed, generate
from ssm_profile.terraform.harness import run_module_tests

pytestmark = pytest.mark.terraform


def test_every_module_ships_its_tests() -> None:
    for name, spec in EXAMPLES.items():
        files = generate(spec).files
        assert [f for f in files if f.startswith("tests/")] == ["tests/module.tftest.hcl"], name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_module_tests_pass_offline(name: str) -> None:
    code, out, err = run("test", str(MODULES / name))
    assert code == 0, err
    assert "Success!" in out and "0 failed" in out


def mutable_copy(name: str, tmp_path: Path) -> Path:
    """A copy of the committed module ``name``, to break by hand."""
    module = tmp_path / "module"
    shutil.copytree(MODULES / name, module)
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
    with pytest.raises(CheckFailed, match=r"tests/module.tftest.hcl: run \"\w+\": .*com\.amazonaws\.cn-north-1\.ssm\."):
        run_module_tests(module)


def test_module_tests_catch_an_attachment_naming_another_policy(tmp_path: Path) -> None:
    # Each custom policy's planned ARN is its own (override_during = plan), so a swapped
    # attachment fails; the mock provider of 0.2.0's wiring file gave every policy one ARN.
    module = mutable_copy("all-options", tmp_path)
    main = module / "main.tf"
    text = main.read_text()
    assert text.count("policy_arn = aws_iam_policy.s3.arn") == 1
    main.write_text(text.replace("policy_arn = aws_iam_policy.s3.arn", "policy_arn = aws_iam_policy.session_manager.arn"))
    done = subprocess.run([sys.executable, "-m", "ssm_profile", "test", str(module)], capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.endswith(
        f'ssm-profile: error: {module}: terraform test: 1 of 1 runs failed: tests/module.tftest.hcl: run "least_privilege_and_wiring": '
        "SSMAllOptionsS3Policy must be attached to the instance role.\n"
    )
