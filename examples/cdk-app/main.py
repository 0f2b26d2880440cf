"""A CDK for Terraform app that puts ssm-profile's instance profile into its own stacks.

Run ``python main.py`` (with ``pip install 'ssm-profile[cdk]'``): it synthesises two stacks,
``cdktf.out/stacks/ssm-demo/cdk.tf.json`` (IAM only, one provider) and
``cdktf.out/stacks/ssm-two-regions/cdk.tf.json`` (VPC endpoints and Default Host Management in
two Regions, one provider per Region handed to the construct). With the CDK Terrain CLI,
``cdktn synth`` does the same given ``"app": "python3 main.py"`` in a cdktf.json.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Imported first, ssm_profile starts CDK's Node process without jsii's Node-version banner.
from ssm_profile.cdk import SsmInstanceProfile

try:
    import cdktn as cdk
except ImportError:  # CDK for Terraform, whose API CDK Terrain continues
    import cdktf as cdk  # type: ignore[no-redef]
from constructs import Construct

SPEC = Path(__file__).resolve().parent / "ssm-profile.toml"
TWO_REGIONS_SPEC = Path(__file__).resolve().parent / "two-regions.toml"


class AwsProvider(cdk.TerraformProvider):
    """The ``hashicorp/aws`` provider declared raw, through the core package: no typed provider package.

    The core ``TerraformProvider`` leaves ``alias`` to the generated provider classes (its own
    is a placeholder that stays unset); this class keeps it, so ``provider=`` on a resource
    names ``aws.<alias>``.
    """

    def __init__(self, scope: Construct, id: str, *, region: str, alias: str | None = None) -> None:
        super().__init__(
            scope,
            id,
            terraform_resource_type="aws",
            terraform_provider_source="hashicorp/aws",
            terraform_generator_metadata=cdk.TerraformProviderGeneratorMetadata(
                provider_name="aws", provider_version_constraint=">= 5.0"
            ),
        )
        self._alias = alias
        self.add_override("region", region)

    @property  # type: ignore[override]
    def alias(self) -> str | None:
        return self._alias

    @alias.setter
    def alias(self, value: str | None) -> None:
        self._alias = value


class SsmDemoStack(cdk.TerraformStack):
    """One stack: the aws provider, the instance profile from the spec, and outputs from its tokens."""

    def __init__(self, scope: Construct, id: str, *, region: str) -> None:
        super().__init__(scope, id)
        AwsProvider(self, "aws", region=region)

        profile = SsmInstanceProfile(self, "ssm", spec=SPEC, variables={"tags": {"Stack": id}})

        cdk.TerraformOutput(self, "instance_profile_name", value=profile.instance_profile_name)
        cdk.TerraformOutput(self, "role_arn", value=profile.role_arn)
        cdk.TerraformOutput(self, "policy_arns", value=profile.policy_arns)


class RegionNetwork(Construct):
    """A VPC in one Region, with what the SSM endpoints need: a subnet, a security group, a route table.

    Declared raw like the rest, each resource bound to the Region's provider; the IDs are tokens
    the instance profile's ``vpc_endpoint_network`` takes as they are.
    """

    def __init__(self, scope: Construct, id: str, *, provider: AwsProvider, cidr_block: str) -> None:
        super().__init__(scope, id)

        def resource(kind: str, **attributes: Any) -> cdk.TerraformResource:
            element = cdk.TerraformResource(self, kind, terraform_resource_type=kind, provider=provider)
            for name, value in attributes.items():
                element.add_override(name, value)
            return element

        # Interface endpoints with private DNS need both DNS attributes of the VPC on:
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html (PrivateDnsEnabled)
        vpc = resource("aws_vpc", cidr_block=cidr_block, enable_dns_support=True, enable_dns_hostnames=True)
        vpc_id = vpc.get_string_attribute("id")
        subnet = resource("aws_subnet", vpc_id=vpc_id, cidr_block=cdk.Fn.cidrsubnet(cidr_block, 8, 1))
        endpoints = resource("aws_security_group", vpc_id=vpc_id, description="HTTPS to the Systems Manager endpoints")
        # The endpoints' security group admits HTTPS from the instances:
        # https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-create-vpc.html
        resource(
            "aws_vpc_security_group_ingress_rule",
            security_group_id=endpoints.get_string_attribute("id"),
            cidr_ipv4=cidr_block,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
        )
        routes = resource("aws_route_table", vpc_id=vpc_id)
        #: This Region's entry of the instance profile's ``vpc_endpoint_network``.
        self.endpoint_network = {
            "vpc_id": vpc_id,
            "subnet_ids": [subnet.get_string_attribute("id")],
            "security_group_ids": [endpoints.get_string_attribute("id")],
            "route_table_ids": [routes.get_string_attribute("id")],
        }


class SsmTwoRegionStack(cdk.TerraformStack):
    """VPC endpoints and Default Host Management in two Regions: the stack hands its providers in."""

    def __init__(self, scope: Construct, id: str, *, regions: dict[str, str]) -> None:
        super().__init__(scope, id)
        first = next(iter(regions))
        # The default provider: the global IAM resources (role, policies, instance profile) use it.
        AwsProvider(self, "aws", region=first)
        #: One aliased provider per Region, by Region; any alias works.
        self.providers = {region: AwsProvider(self, f"aws_{alias}", region=region, alias=alias) for region, alias in regions.items()}
        account_id = cdk.TerraformVariable(
            self, "account_id", type="string", description="ID of the AWS account the stack is applied in."
        )
        networks = {
            region: RegionNetwork(self, f"network_{alias}", provider=self.providers[region], cidr_block=f"10.{index}.0.0/16")
            for index, (region, alias) in enumerate(regions.items())
        }

        profile = SsmInstanceProfile(
            self,
            "ssm",
            spec=TWO_REGIONS_SPEC,
            providers=self.providers,
            variables={
                "account_id": account_id.string_value,
                "vpc_endpoint_network": {region: network.endpoint_network for region, network in networks.items()},
                "tags": {"Stack": id},
            },
        )

        cdk.TerraformOutput(self, "instance_profile_name", value=profile.instance_profile_name)
        cdk.TerraformOutput(self, "role_arn", value=profile.role_arn)


def main(outdir: str | os.PathLike[str] | None = None, **app_options: Any) -> cdk.App:
    """Build and synthesise the app; returns it (the synthesised stack is under ``outdir``)."""
    app = cdk.App(outdir=str(outdir) if outdir is not None else None, **app_options)
    SsmDemoStack(app, "ssm-demo", region=os.environ.get("AWS_REGION", "eu-central-1"))
    SsmTwoRegionStack(app, "ssm-two-regions", regions={"us-east-1": "use1", "eu-west-1": "euw1"})
    app.synth()
    return app


if __name__ == "__main__":
    main()
