"""The Terraform document model: blocks, documents and expression nodes, without a renderer."""

from __future__ import annotations

import msgspec
import pytest

from ssm_profile.tfmodule.document import (
    Bare,
    Block,
    Call,
    Document,
    For,
    GetAttr,
    Index,
    ListExpr,
    Op,
    Ref,
    Template,
    TypeConstraint,
    all_of,
    call,
    is_nested_blocks,
    local,
    nested,
    ref,
    rewrite,
    var,
)


def test_builders_spell_addresses_and_traversals() -> None:
    assert var("tags") == Ref("var.tags")
    assert local("partition") == Ref("local.partition")
    assert ref("aws_iam_role.this").attr("name") == GetAttr(Ref("aws_iam_role.this"), "name")
    assert ref("x").attr("a", "b") == GetAttr(GetAttr(Ref("x"), "a"), "b")
    assert var("network").index("us-east-1").attr("vpc_id") == GetAttr(Index(Ref("var.network"), "us-east-1"), "vpc_id")
    assert call("merge", local("a"), var("b")) == Call("merge", (Ref("local.a"), Ref("var.b")))
    assert all_of(1, 2, 3) == Op("&&", Op("&&", 1, 2), 3)
    assert all_of(var("x")) == var("x")


def test_nodes_are_frozen_values() -> None:
    node = ref("aws_iam_policy.s3").attr("arn")
    with pytest.raises(AttributeError):
        node.name = "id"  # type: ignore[misc]
    assert hash(node) == hash(ref("aws_iam_policy.s3").attr("arn"))
    assert {Bare("aws"): 1}[Bare("aws")] == 1
    # Same text, different meaning: a reference is not a bare keyword.
    assert Ref("aws.use1") != Bare("aws.use1")


def test_block_address_per_kind() -> None:
    assert Block("resource", ("aws_iam_role", "this")).address == "aws_iam_role.this"
    assert Block("data", ("aws_partition", "current")).address == "data.aws_partition.current"
    assert Block("variable", ("tags",)).address == "variable.tags"
    assert Block("locals").address == "locals"


def test_block_bodies_are_not_shared_between_blocks() -> None:
    first, second = Block("locals"), Block("locals")
    first.body["a"] = 1
    assert second.body == {}


def test_document_groups_blocks_by_file_in_module_order() -> None:
    output = Block("output", ("o",), file="outputs")
    resource = Block("resource", ("aws_iam_role", "this"))
    variable = Block("variable", ("v",), file="variables")
    document = Document((output, resource, variable))
    assert list(document.files().items()) == [("main", [resource]), ("variables", [variable]), ("outputs", [output]), ("versions", [])]
    assert document.of_kind("variable") == [variable]


def test_nested_blocks_are_told_from_list_attributes() -> None:
    assert is_nested_blocks(nested(Block("statement"), Block("statement")))
    assert not is_nested_blocks([])
    assert not is_nested_blocks(["a", Block("statement")])


def test_rewrite_replaces_references_everywhere_a_value_can_hold_one() -> None:
    renames = {"aws_iam_policy.s3": "aws_iam_policy.ssm_s3", "var.tags": "local.ssm_var_tags"}

    def renamed(node: object) -> Ref | None:
        return Ref(renames[node.address]) if isinstance(node, Ref) and node.address in renames else None

    body = {
        "policy_arn": ref("aws_iam_policy.s3").attr("arn"),
        "other": ref("aws_iam_policy.s3_2").attr("arn"),
        "tags": call("merge", local("spec_tags"), var("tags")),
        "name": Template(("${literal}-", var("tags"), "-x")),
        "list": [ListExpr((ref("aws_iam_policy.s3"),)), "aws_iam_policy.s3"],
        "map": {Bare("aws"): Bare("aws")},
        "all": For("s", var("tags"), Ref("s").attr("v")),
        "nested": nested(Block("statement", body={"x": var("tags")})),
    }
    result = rewrite(Block("resource", ("t", "n"), body), renamed)
    assert result.body == {
        "policy_arn": ref("aws_iam_policy.ssm_s3").attr("arn"),
        "other": ref("aws_iam_policy.s3_2").attr("arn"),
        "tags": call("merge", local("spec_tags"), local("ssm_var_tags")),
        "name": Template(("${literal}-", local("ssm_var_tags"), "-x")),
        "list": [ListExpr((ref("aws_iam_policy.ssm_s3"),)), "aws_iam_policy.s3"],
        "map": {Bare("aws"): Bare("aws")},
        "all": For("s", local("ssm_var_tags"), Ref("s").attr("v")),
        "nested": [Block("statement", body={"x": local("ssm_var_tags")})],
    }
    assert body["tags"] == call("merge", local("spec_tags"), var("tags"))  # the input is untouched


def test_rewrite_sees_a_node_before_its_children() -> None:
    seen: list[str] = []

    def record(node: object) -> Bare | None:
        seen.append(type(node).__name__)
        if isinstance(node, GetAttr) and isinstance(node.target, Ref):
            return Bare("resolved")
        return None

    result = rewrite(Op("==", ref("aws_iam_role.this").attr("name"), var("x")), record)
    assert result == Op("==", Bare("resolved"), var("x"))
    assert seen == ["Op", "GetAttr", "Ref"]


def test_nodes_round_trip_through_msgspec_replace() -> None:
    node = ListExpr(("a",), one_per_line=True)
    assert msgspec.structs.replace(node, items=("b",)) == ListExpr(("b",), one_per_line=True)


def test_rewrite_walks_whole_documents_and_type_constraints() -> None:
    document = Document(
        (
            Block("variable", ("x",), {"type": TypeConstraint(call("map", Ref("var.old")))}, comment=("var.old",)),
            Block("output", ("o",), {"value": var("old")}, file="outputs"),
        )
    )

    def renamed(node: object) -> Ref | None:
        return var("new") if node == var("old") else None

    assert rewrite(document, renamed) == Document(
        (
            Block("variable", ("x",), {"type": TypeConstraint(call("map", var("new")))}, comment=("var.old",)),
            Block("output", ("o",), {"value": var("new")}, file="outputs"),
        )
    )
