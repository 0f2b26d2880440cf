"""catalog.py on its own: the bucket sets, the per-Region suffix rows, and the missing-suffix error.

The catalog's AWS facts are checked against AWS's documents in test_aws_facts.py; here the
suffixes are mostly test input (``given``), so what is tested is how templates are filled in.
"""

from __future__ import annotations

import pytest

from ssm_profile import SpecError
from ssm_profile.aws.agent_buckets import (
    PATCHING_BUCKETS_DOC,
    SET_NAMES,
    RegionSuffixes,
    agent_buckets,
    catalog,
    catalog_suffixes,
    covers,
    endpoint_service_name,
    set_needs_suffixes,
)

#: A Region AWS's patching table has no row for (so only ``given`` suffixes name its buckets).
UNLISTED = "ap-southeast-7"
GIVEN = {UNLISTED: RegionSuffixes(patch_manager="pm0000001", patch_manager_macos="mac000001")}


def test_every_set_the_spec_accepts_is_in_the_catalog() -> None:
    assert set(SET_NAMES) == set(catalog()["sets"])
    for name in SET_NAMES:
        assert agent_buckets(name, "us-east-1"), name  # a catalogued Region: every set names buckets


def test_a_suffix_row_becomes_region_suffixes_with_empty_for_none() -> None:
    # me-south-1: the Region whose suffixed snapshot bucket AWS's archived page names (uduvl7q8).
    row = catalog_suffixes("me-south-1")
    assert row is not None and row.patch_baseline_snapshot == "uduvl7q8"
    assert row.patch_manager and row.patch_manager_macos
    us_east_1 = catalog_suffixes("us-east-1")
    assert us_east_1 is not None and us_east_1.patch_baseline_snapshot == ""  # null in the data: no suffix
    assert catalog_suffixes(UNLISTED) is None
    assert catalog_suffixes("cn-north-1") is None


def test_only_the_seed_set_needs_no_suffix() -> None:
    assert [name for name in SET_NAMES if set_needs_suffixes(name)] == ["current", "all"]


@pytest.mark.parametrize(
    ("set_name", "region", "expected"),
    [("seed", UNLISTED, True), ("seed", "cn-north-1", True), ("current", "us-east-1", True), ("current", UNLISTED, False), ("all", "us-gov-west-1", False)],
)
def test_covers_says_whether_the_catalog_alone_names_every_bucket(set_name: str, region: str, expected: bool) -> None:
    assert covers(set_name, region) is expected


def test_current_fills_each_template_with_the_given_suffixes() -> None:
    r = UNLISTED
    assert agent_buckets("current", r, GIVEN) == tuple(
        sorted(
            [
                f"aws-windows-downloads-{r}",
                f"amazon-ssm-{r}",
                f"aws-ssm-{r}",
                f"patch-baseline-snapshot-{r}",  # no snapshot suffix given: the unsuffixed bucket
                f"aws-patch-manager-{r}-pm0000001",
                f"aws-patchmanager-macos-{r}-mac000001",
            ]
        )
    )


def test_a_snapshot_suffix_replaces_the_unsuffixed_snapshot_bucket() -> None:
    given = {UNLISTED: RegionSuffixes("pm0000001", "mac000001", patch_baseline_snapshot="snap0001")}
    snapshots = [name for name in agent_buckets("current", UNLISTED, given) if name.startswith("patch-baseline-snapshot-")]
    assert snapshots == [f"patch-baseline-snapshot-{UNLISTED}-snap0001"]


def test_given_suffixes_win_over_the_catalog_row() -> None:
    given = {"us-east-1": RegionSuffixes("mine00001", "mine00002")}
    names = agent_buckets("current", "us-east-1", given)
    assert "aws-patch-manager-us-east-1-mine00001" in names and "aws-patchmanager-macos-us-east-1-mine00002" in names
    documented = catalog_suffixes("us-east-1")
    assert documented is not None and f"aws-patch-manager-us-east-1-{documented.patch_manager}" not in names


def test_all_is_current_plus_the_seed_templates_current_lacks() -> None:
    current = set(agent_buckets("current", UNLISTED, GIVEN))
    extra = set(agent_buckets("all", UNLISTED, GIVEN)) - current
    assert extra == {f"amazon-ssm-packages-{UNLISTED}", f"{UNLISTED}-birdwatcher-prod", f"aws-ssm-document-attachments-{UNLISTED}"}


def test_seed_names_its_templates_in_any_region_without_suffixes() -> None:
    # Every seed template but the two that apply only where AWS documents them: the Distributor
    # bucket of af-south-1 and eu-south-1, and the suffixed snapshot bucket (issue 24).
    names = agent_buckets("seed", "cn-north-1")
    assert len(names) == len(catalog()["sets"]["seed"]["buckets"]) - 2 == len(set(names))
    assert all("cn-north-1" in name for name in names)


@pytest.mark.parametrize(
    ("given", "missing"),
    [(None, "patch_manager"), ({UNLISTED: RegionSuffixes(patch_manager="pm0000001")}, "patch_manager_macos")],
)
def test_a_missing_suffix_is_a_spec_error_naming_the_first_one_missing(given: dict | None, missing: str) -> None:
    with pytest.raises(SpecError) as caught:
        agent_buckets("current", UNLISTED, given)
    message = str(caught.value)
    assert message.startswith(f's3.agent_bucket_suffixes["{UNLISTED}"]: bucket set \'current\' needs the {missing} suffix in {UNLISTED},')
    assert PATCHING_BUCKETS_DOC in message


def test_interface_endpoints_in_china_take_the_reversed_prefix_only_where_listed() -> None:
    # kms is an interface service ssm-profile creates that the reversed-prefix table does not list.
    assert endpoint_service_name("kms", "cn-north-1") == "com.amazonaws.cn-north-1.kms"
    assert endpoint_service_name("ssmmessages", "eu-west-1") == "com.amazonaws.eu-west-1.ssmmessages"
