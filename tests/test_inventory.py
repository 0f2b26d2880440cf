"""The resource inventory resolves references by walking expressions, not by parsing text."""

from __future__ import annotations

from ssm_profile.release.inventory import inventory
from ssm_profile.tfmodule.document import Block, Document, Template, local, ref, var


def _document(*blocks: Block) -> Document:
    return Document(
        (
            Block("locals", body={"partition": "aws"}),
            Block("variable", ("role_name",), {"default": "SSMRole"}, file="variables"),
            Block("variable", ("account_id",), {}, file="variables"),
            *blocks,
        )
    )


def test_identity_holds_resolved_values_not_addresses() -> None:
    role = Block("resource", ("aws_iam_role", "renamed"), {"name": var("role_name")})
    policy = Block("resource", ("aws_iam_policy", "s3"), {"name": "S3"})
    attachment = Block(
        "resource",
        ("aws_iam_role_policy_attachment", "s3"),
        {"role": ref("aws_iam_role.renamed").attr("name"), "policy_arn": ref("aws_iam_policy.s3").attr("arn")},
    )
    setting = Block(
        "resource",
        ("aws_ssm_service_setting", "dhmc"),
        {"setting_id": Template(("arn:", local("partition"), ":ssm:us-east-1:", var("account_id"), ":servicesetting/x"))},
    )
    resources = inventory(_document(role, policy, attachment, setting))
    assert resources["aws_iam_role.renamed"].identity == (("name", "SSMRole"),)
    # A resource attribute the document does not state stands for the resource's identity.
    assert resources["aws_iam_role_policy_attachment.s3"].identity == (("role", "SSMRole"), ("policy_arn", "aws_iam_policy[name=S3].arn"))
    # Templates resolve inside their interpolations; a variable without a default stays a reference.
    assert resources["aws_ssm_service_setting.dhmc"].identity == (("setting_id", "arn:${aws}:ssm:us-east-1:${var.account_id}:servicesetting/x"),)


def test_renaming_a_referenced_resource_changes_no_digest_of_the_referrer() -> None:
    def attachment(role_address: str) -> Block:
        return Block("resource", ("aws_iam_role_policy_attachment", "core"), {"role": ref(role_address).attr("name"), "policy_arn": "arn:p"})

    before = inventory(_document(Block("resource", ("aws_iam_role", "this"), {"name": "R"}), attachment("aws_iam_role.this")))
    after = inventory(_document(Block("resource", ("aws_iam_role", "main"), {"name": "R"}), attachment("aws_iam_role.main")))
    assert before["aws_iam_role_policy_attachment.core"] == after["aws_iam_role_policy_attachment.core"]
