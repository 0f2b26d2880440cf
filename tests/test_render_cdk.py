"""The CDK renderer's values: Terraform JSON spelling, nulls carried through jsii as an expression.

Pure: nothing here imports CDK or starts Node.
"""

from __future__ import annotations

from ssm_profile.render.cdk_engine import NULL_EXPRESSION, cdk_value, module_files
from ssm_profile.tfmodule.document import Block, Document, ListExpr, Template, call, nested, ref, var


def test_expressions_are_written_as_the_json_renderer_writes_them() -> None:
    assert cdk_value(ref("aws_iam_policy.s3").attr("arn")) == "${aws_iam_policy.s3.arn}"
    assert cdk_value(Template((var("name"), "-2"))) == "${var.name}-2"
    assert cdk_value(call("contains", ListExpr(("us-east-1",)), var("r"))) == '${contains(["us-east-1"], var.r)}'
    assert cdk_value({"default": None, "list": [None, var("x")]}) == {"default": NULL_EXPRESSION, "list": [NULL_EXPRESSION, "${var.x}"]}


def test_nested_blocks_become_objects_or_lists() -> None:
    statements = nested(Block("statement", body={"resources": [Template(("arn:", var("p"), ":x"))]}))
    assert cdk_value(statements) == [{"resources": ["arn:${var.p}:x"]}]


def test_module_files_restore_nulls_and_keep_expressions() -> None:
    document = Document((Block("variable", ("boundary",), {"default": None, "type": "string"}, file="variables"),))
    synthesized = {"//": {}, "variable": {"boundary": {"default": NULL_EXPRESSION, "type": "string"}}}
    files = module_files(synthesized, document, "h")
    assert files == {"variables.tf.json": '{\n  "//": "h",\n  "variable": {\n    "boundary": {\n      "default": null,\n      "type": "string"\n    }\n  }\n}\n'}
