"""The Terraform JSON renderer: expressions as ``"${...}"``, templates and bare words as strings."""

from __future__ import annotations

import json

from ssm_profile.document import Bare, Block, ListExpr, Op, Template, TypeConstraint, call, local, nested, ref, var
from ssm_profile.render.tfjson import json_value, render_blocks


def test_each_kind_of_value_as_terraform_json() -> None:
    assert json_value(ref("aws_iam_role.this").attr("arn")) == "${aws_iam_role.this.arn}"
    assert json_value(call("merge", local("spec_tags"), var("tags"))) == "${merge(local.spec_tags, var.tags)}"
    assert json_value(Template(("service-role/", ref("aws_iam_role.x").attr("name")))) == "service-role/${aws_iam_role.x.name}"
    assert json_value(Bare("aws.us_east_2")) == "aws.us_east_2"
    assert json_value(TypeConstraint(call("map", Bare("string")))) == "map(string)"
    assert json_value("${literal} %{too}") == "$${literal} %%{too}"
    assert json_value({Bare("aws.use1"): [var("a"), 1, None]}) == {"aws.use1": ["${var.a}", 1, None]}


def test_a_multi_line_expression_keeps_its_own_line_breaks() -> None:
    condition = Op("==", call("toset", ListExpr((var("x"),))), call("toset", ListExpr(("a",), one_per_line=True)))
    run = Block("run", ("checks",), {"command": Bare("plan"), "assert": nested(Block("assert", body={"condition": condition, "error_message": "m"}))})
    text = render_blocks([run], "h")
    assert json.loads(text) == {
        "//": "h",
        "run": {"checks": {"command": "plan", "assert": [{"condition": '${toset([var.x]) == toset([\n  "a",\n])}', "error_message": "m"}]}},
    }
    assert '"condition": "${toset([var.x]) == toset([\\n  \\"a\\",\\n])}"' in text
