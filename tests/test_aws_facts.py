"""Issue 11: what AWS documents, item by item (bucket sets, suffix errors, legacy bucket names).

Expected values are AWS's own facts (the catalog's sources), not read back from our output.
"""

from __future__ import annotations

import pytest

from ssm_profile import SpecError
from ssm_profile.aws import agent_buckets as catalog
from ssm_profile.aws.agent_buckets import agent_buckets
from ssm_profile.aws.bucket_names import bucket_name_problem, legacy_bucket_name_warning

# AWS's suffix tables: the six Regions whose patch-baseline-snapshot bucket has a suffix.
SUFFIXED_SNAPSHOT_REGIONS = ("af-south-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "eu-south-2", "me-south-1")


@pytest.mark.parametrize("region", ["af-south-1", "eu-south-1"])
def test_all_grants_distributor_file_instead_of_birdwatcher_in_cape_town_and_milan(region: str) -> None:
    names = agent_buckets("all", region)
    assert f"aws-ssm-distributor-file-{region}" in names
    assert f"{region}-birdwatcher-prod" not in names


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-south-2"])
def test_all_grants_birdwatcher_elsewhere_and_no_distributor_file(region: str) -> None:
    names = agent_buckets("all", region)
    assert f"{region}-birdwatcher-prod" in names
    assert f"aws-ssm-distributor-file-{region}" not in names


@pytest.mark.parametrize("region", SUFFIXED_SNAPSHOT_REGIONS)
def test_all_never_grants_the_unsuffixed_snapshot_bucket_where_it_has_a_suffix(region: str) -> None:
    names = agent_buckets("all", region)
    snapshots = [n for n in names if n.startswith("patch-baseline-snapshot-")]
    assert len(snapshots) == 1 and snapshots[0].startswith(f"patch-baseline-snapshot-{region}-")


def test_me_south_1_snapshot_bucket_is_awss_suffixed_name() -> None:
    # The archived 2023 page names it: patch-baseline-snapshot-me-south-1-uduvl7q8.
    assert "patch-baseline-snapshot-me-south-1-uduvl7q8" in agent_buckets("all", "me-south-1")
    assert "patch-baseline-snapshot-me-south-1" not in agent_buckets("all", "me-south-1")


def test_all_is_current_plus_the_legacy_buckets_where_they_apply() -> None:
    current = set(agent_buckets("current", "us-east-2"))
    assert set(agent_buckets("all", "us-east-2")) - current == {
        "amazon-ssm-packages-us-east-2", "us-east-2-birdwatcher-prod", "aws-ssm-document-attachments-us-east-2",
    }


@pytest.mark.parametrize("region", ["ap-southeast-7", "cn-north-1", "us-gov-west-1"])
def test_missing_suffix_error_says_what_each_way_out_costs(region: str) -> None:
    with pytest.raises(SpecError) as caught:
        agent_buckets("all", region)
    message = str(caught.value)
    assert message.startswith(f"s3.agent_bucket_suffixes[\"{region}\"]: bucket set 'all' needs the ")
    assert "https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-operations-s3-buckets.html" in message
    assert f"as s3.agent_bucket_suffixes.{region}" in message
    assert f"no Patch Manager buckets: patching (AWS-RunPatchBaseline) behind VPC endpoints will fail in {region}" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["DOC-EXAMPLE-BUCKET", "My_Old_Bucket", "legacy-" + "a" * 200, "Logs.2017_archive"])
def test_legacy_us_east_1_names_pass_with_a_warning(name: str) -> None:
    assert bucket_name_problem(name) == ""
    warning = legacy_bucket_name_warning(name)
    assert "only a bucket created in us-east-1 before March 1, 2018" in warning and "\n" not in warning


@pytest.mark.parametrize("name", ["my-bucket", "doc-example-bucket", "a.b.c"])
def test_current_names_have_no_warning(name: str) -> None:
    assert (bucket_name_problem(name), legacy_bucket_name_warning(name)) == ("", "")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("bucket/prefix", "may hold only lower-case letters, digits, dots and hyphens (legacy"),
        ("logs-*", "may hold only"),
        ("My Bucket", "may hold only"),
        ("arn:aws:s3:::my-bucket", "may hold only"),
        ("a" * 256, "must be 3 to 63 characters long (up to 255 only for legacy us-east-1 buckets)"),
        ("ab", "must be 3 to 63 characters long"),
        ("Bucket_", "must begin and end with a letter or digit"),
        ("192.168.1.1", "must not be formatted as an IP address"),
    ],
)
def test_what_no_bucket_name_can_be_is_still_rejected(name: str, problem: str) -> None:
    assert bucket_name_problem(name).startswith(problem)


def test_catalog_records_each_new_fact_with_a_source() -> None:
    data = catalog.catalog()
    for fact in data["facts"].values():
        assert fact["fact"] and fact["sources"] and all(s.startswith("https://") for s in fact["sources"])
    for service in data["endpoint_services"]["services"].values():
        assert service["kind"] in ("Interface", "Gateway") and service["source"]
    where = " ".join(s["where"] for s in data["sources"])
    for url in (
        "getting-started-create-iam-instance-profile.html",
        "repost.aws/knowledge-center/ssm-s3-bucket-logging-multiple-accounts",
        "hybrid-multicloud-service-role.html",
        "bucketnamingrules.html",
        "github:aws/aws-cdk",
    ):
        assert url in where


def test_region_coverage_lists_each_region_of_a_partition_with_its_sets() -> None:
    rows = catalog.region_coverage("aws-cn")
    assert [(r.partition, r.region, r.name) for r in rows] == [
        ("aws-cn", "cn-north-1", "China (Beijing)"),
        ("aws-cn", "cn-northwest-1", "China (Ningxia)"),
    ]
    assert all(list(r.sets) == list(catalog.SET_NAMES) and r.sets["seed"] for r in rows)
    assert {r.partition for r in catalog.region_coverage()} == {"aws", "aws-cn", "aws-us-gov"}


def test_region_coverage_refuses_an_unknown_partition_with_a_suggestion() -> None:
    with pytest.raises(SpecError, match=r"^--partition: 'aws-cm' is not supported \(did you mean aws-cn\?\); allowed: aws, aws-cn, aws-us-gov$"):
        catalog.region_coverage("aws-cm")
