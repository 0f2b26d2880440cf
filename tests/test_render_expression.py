"""HCL expression syntax: each expression node printed, exactly."""

from __future__ import annotations

import pytest

from ssm_profile.render.expression import escape_template, expression_text, template_text
from ssm_profile.tfmodule.document import (
    Bare,
    Conditional,
    For,
    ListExpr,
    Not,
    Object,
    Op,
    Ref,
    Template,
    TypeConstraint,
    all_of,
    call,
    local,
    ref,
    var,
)


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (var("tags"), "var.tags"),
        (ref("data.aws_iam_policy_document.s3").attr("json"), "data.aws_iam_policy_document.s3.json"),
        (var("vpc_endpoint_network").index("us-east-1").attr("vpc_id"), 'var.vpc_endpoint_network["us-east-1"].vpc_id'),
        (call("split", ":", Ref("r")).index(3), 'split(":", r)[3]'),
        (call("merge", local("spec_tags"), var("tags")), "merge(local.spec_tags, var.tags)"),
        (call("timestamp"), "timestamp()"),
        (Op("==", ref("output.role_name"), "SSMRole"), 'output.role_name == "SSMRole"'),
        (all_of(Op(">=", var("n"), 3600), Op("<=", var("n"), 43200)), "var.n >= 3600 && var.n <= 43200"),
        (Not(call("endswith", Ref("a"), ":*")), '!endswith(a, ":*")'),
        (Conditional(Op("==", var("b"), None), True, False), "var.b == null ? true : false"),
        (For("s", var("list"), Ref("s").attr("Action")), "[for s in var.list : s.Action]"),
        (ListExpr(("a", 1, True)), '["a", 1, true]'),
        (ListExpr(()), "[]"),
        (Template(("arn:", local("partition"), ":iam::", var("account_id"), ":root")), '"arn:${local.partition}:iam::${var.account_id}:root"'),
        (Bare("aws.us_east_2"), "aws.us_east_2"),
    ],
)
def test_each_node_prints_as_hcl(node: object, text: str) -> None:
    assert expression_text(node) == text


def test_parentheses_only_where_precedence_needs_them() -> None:
    a, b, c = var("a"), var("b"), var("c")
    assert expression_text(Op("||", Op("&&", a, b), c)) == "var.a && var.b || var.c"
    assert expression_text(Op("&&", Op("||", a, b), c)) == "(var.a || var.b) && var.c"
    assert expression_text(Op("-", a, Op("-", b, c))) == "var.a - (var.b - var.c)"
    assert expression_text(Op("-", Op("-", a, b), c)) == "var.a - var.b - var.c"
    assert expression_text(Not(Op("==", a, b))) == "!(var.a == var.b)"
    assert expression_text(Op("==", Conditional(a, b, c), 1)) == "(var.a ? var.b : var.c) == 1"
    assert expression_text(Op("+", a, b).attr("x")) == "(var.a + var.b).x"


def test_one_item_per_line_is_indented_for_its_depth() -> None:
    node = Op("==", call("toset", ListExpr((var("x"),))), call("toset", ListExpr(("a", "b"), one_per_line=True)))
    assert expression_text(node) == 'toset([var.x]) == toset([\n  "a",\n  "b",\n])'
    assert expression_text(node, depth=2) == 'toset([var.x]) == toset([\n      "a",\n      "b",\n    ])'


def test_string_literals_are_ascii_and_escape_template_sequences() -> None:
    # A condition's text is the same in HCL, Terraform JSON and the release record.
    assert expression_text("^[\\t -~\u00a1-\u00ff]*$") == '"^[\\\\t -~\\u00a1-\\u00ff]*$"'
    assert expression_text("${x} %{y}") == '"$${x} %%{y}"'
    assert expression_text("/\\s/") == '"/\\\\s/"'


def test_template_text_escapes_literals_and_interpolates_expressions() -> None:
    node = Template(("${not-me}-", var("name"), "-2"))
    assert template_text(node) == "$${not-me}-${var.name}-2"
    assert expression_text(node) == '"$${not-me}-${var.name}-2"'
    assert escape_template("100%{x}") == "100%%{x}"


def test_a_python_container_inside_an_expression_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot write list inside an HCL expression"):
        expression_text(call("toset", ["a"]))


def test_type_constraints_print_as_type_expressions() -> None:
    string = Bare("string")
    network = Object((("vpc_id", string), ("subnet_ids", call("list", string))))
    assert expression_text(TypeConstraint(call("map", call("object", network)))) == "map(object({ vpc_id = string, subnet_ids = list(string) }))"
    assert expression_text(TypeConstraint(string)) == "string"
    assert expression_text(Object(())) == "{}"
