"""A CDK for Terraform app that puts ssm-profile's instance profile into its own stack.

Run ``python main.py`` (with ``pip install 'ssm-profile[cdk]'``): it synthesises the stack
into ``cdktf.out/stacks/ssm-demo/cdk.tf.json``. With the CDK Terrain CLI, ``cdktn synth``
does the same given ``"app": "python3 main.py"`` in a cdktf.json.
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


class SsmDemoStack(cdk.TerraformStack):
    """One stack: the aws provider, the instance profile from the spec, and outputs from its tokens."""

    def __init__(self, scope: Construct, id: str, *, region: str) -> None:
        super().__init__(scope, id)
        # The provider declared raw, like everything else here: no typed provider package.
        aws = cdk.TerraformProvider(
            self,
            "aws",
            terraform_resource_type="aws",
            terraform_provider_source="hashicorp/aws",
            terraform_generator_metadata=cdk.TerraformProviderGeneratorMetadata(
                provider_name="aws", provider_version_constraint=">= 5.0"
            ),
        )
        aws.add_override("region", region)

        profile = SsmInstanceProfile(self, "ssm", spec=SPEC, variables={"tags": {"Stack": id}})

        cdk.TerraformOutput(self, "instance_profile_name", value=profile.instance_profile_name)
        cdk.TerraformOutput(self, "role_arn", value=profile.role_arn)
        cdk.TerraformOutput(self, "policy_arns", value=profile.policy_arns)


def main(outdir: str | os.PathLike[str] | None = None, **app_options: Any) -> cdk.App:
    """Build and synthesise the app; returns it (the synthesised stack is under ``outdir``)."""
    app = cdk.App(outdir=str(outdir) if outdir is not None else None, **app_options)
    SsmDemoStack(app, "ssm-demo", region=os.environ.get("AWS_REGION", "eu-central-1"))
    app.synth()
    return app


if __name__ == "__main__":
    main()
