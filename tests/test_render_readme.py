"""The module README's usage snippet: its values printed by the HCL renderer."""

from __future__ import annotations

from ssm_profile import generate

TWO_REGIONS = {
    "version": 1,
    "regions": ["us-east-1", "eu-west-1"],
    "s3": {"vpc_endpoint": True},
    "vpc_endpoints": {"enabled": True, "services": ["ssm"]},
}


def _usage(readme: str) -> str:
    start = readme.index('provider "aws" {')
    return readme[start : readme.index("\n}\n", readme.index('module "ssm_instance_profile"')) + 3]


def test_usage_wires_one_provider_per_region_through_the_providers_map() -> None:
    usage = _usage(generate(TWO_REGIONS, module_source="../modules/ssm").files["README.md"])
    assert usage.startswith(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        'provider "aws" {\n  alias  = "us_east_1"\n  region = "us-east-1"\n}\n\n'
        'provider "aws" {\n  alias  = "eu_west_1"\n  region = "eu-west-1"\n}\n\n'
        'module "ssm_instance_profile" {\n  source = "../modules/ssm"\n'
    )
    assert usage.endswith("  providers = {\n    aws           = aws\n    aws.us_east_1 = aws.us_east_1\n    aws.eu_west_1 = aws.eu_west_1\n  }\n}\n")


def test_usage_source_is_an_hcl_string_whatever_the_folder_is_called() -> None:
    readme = generate(TWO_REGIONS, module_source='../mods/"odd" ${name}').files["README.md"]
    assert '  source = "../mods/\\"odd\\" $${name}"\n' in readme
