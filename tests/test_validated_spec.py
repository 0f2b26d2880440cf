"""Stage 1's output: a ValidatedSpec, checked once and passed on."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from ssm_profile import generate
from ssm_profile.aws.partitions import Partition
from ssm_profile.errors import SpecError
from ssm_profile.grants.build import build_grants
from ssm_profile.spec import rules as spec_rules
from ssm_profile.spec.load import Spec, ValidatedSpec, as_validated, load_spec, spec_from_data
from ssm_profile.spec.rules import check_regions

DATA = {"version": 1, "regions": ["cn-north-1", "cn-northwest-1"]}


def test_a_validated_spec_carries_the_spec_and_its_partition(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(DATA))
    valid = load_spec(path)
    assert isinstance(valid, ValidatedSpec) and isinstance(valid.spec, Spec)
    assert valid.spec.regions == ["cn-north-1", "cn-northwest-1"]
    assert valid.partition.id == "aws-cn"
    assert valid == spec_from_data(DATA)


def test_as_validated_takes_every_form_and_passes_a_validated_spec_through(tmp_path: Path) -> None:
    valid = spec_from_data(DATA)
    assert as_validated(valid) is valid
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(DATA))
    built = msgspec.convert(DATA, Spec)
    assert as_validated(path) == as_validated(str(path)) == as_validated(DATA) == as_validated(built) == valid


def test_a_spec_built_in_code_is_checked_before_it_is_granted() -> None:
    bad = msgspec.convert({"version": 1, "regions": ["us-east-1", "cn-north-1"]}, Spec)
    with pytest.raises(SpecError, match=r"^regions\[1\]: 'cn-north-1' is in partition aws-cn, but regions\[0\]"):
        as_validated(bad)
    with pytest.raises(SpecError, match=r"^regions\[1\]"):
        generate(bad)


def test_the_rules_run_once_per_generate(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Spec] = []

    def counting(spec: Spec) -> Partition:
        calls.append(spec)
        return check_regions(spec)

    monkeypatch.setattr(spec_rules, "check_regions", counting)
    module = generate(dict(DATA))
    assert len(calls) == 1 and module.grants.partition.id == "aws-cn"
    valid = spec_from_data(DATA)
    assert len(calls) == 2
    assert build_grants(valid).partition.id == "aws-cn"
    assert len(calls) == 2  # build_grants takes the partition from the ValidatedSpec, checking nothing again
