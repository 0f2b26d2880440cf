"""The HCL renderer: expression nodes placed in blocks, ``terraform fmt`` layout."""

from __future__ import annotations

from ssm_profile.document import Bare, Block, ListExpr, Op, Template, call, nested, ref, var
from ssm_profile.render.hcl import render_blocks, render_value


def test_references_and_templates_are_written_in_place_and_aligned() -> None:
    block = Block(
        "resource",
        ("aws_iam_policy", "s3_2"),
        {"name": Template((var("s3_policy_name"), "-2")), "policy": ref("data.aws_iam_policy_document.s3_2").attr("json")},
    )
    assert render_blocks([block], "h") == (
        "# h\n"
        "\n"
        'resource "aws_iam_policy" "s3_2" {\n'
        '  name   = "${var.s3_policy_name}-2"\n'
        "  policy = data.aws_iam_policy_document.s3_2.json\n"
        "}\n"
    )


def test_a_multi_line_expression_is_indented_for_where_it_sits() -> None:
    condition = Op("==", call("toset", ListExpr((var("x"),))), call("toset", ListExpr(("a", "b"), one_per_line=True)))
    run = Block("run", ("checks",), {"command": Bare("plan"), "assert": nested(Block("assert", body={"condition": condition, "error_message": "differs"}))})
    assert render_blocks([run], "h") == (
        "# h\n"
        "\n"
        'run "checks" {\n'
        "  command = plan\n"
        "\n"
        "  assert {\n"
        "    condition = toset([var.x]) == toset([\n"
        '      "a",\n'
        '      "b",\n'
        "    ])\n"
        '    error_message = "differs"\n'
        "  }\n"
        "}\n"
    )


def test_bare_keys_are_written_unquoted() -> None:
    providers = {Bare("aws"): Bare("aws"), Bare("aws.us_east_1"): Bare("aws.us_east_1")}
    assert render_value(providers, 1) == "{\n    aws           = aws\n    aws.us_east_1 = aws.us_east_1\n  }"
    assert render_value({"aws.us_east_1": "x"}, 0) == '{\n  "aws.us_east_1" = "x"\n}'


def test_a_list_attribute_of_references_is_inline_when_short() -> None:
    assert render_value([ref("aws_iam_policy.s3").attr("arn"), "x"], 1) == '[aws_iam_policy.s3.arn, "x"]'
    arns = [ref("aws_iam_policy.s3").attr("arn"), "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert render_value(arns, 1) == (
        '[\n    aws_iam_policy.s3.arn,\n    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",\n  ]'
    )
