"""The module's own input variables: ``tags``, ``account_id`` when an ARN or trust condition
names the account, and ``vpc_endpoint_network`` with one entry per Region that has endpoints.

Each declares its type and validation blocks, so a caller's mistake fails at plan time with a
message naming the variable and, for the network, the Region.
"""

from __future__ import annotations

from ..grants.build import Grants
from .document import Bare, Block, For, ListExpr, Object, Op, Ref, TypeConstraint, call, nested, var

#: Module inputs the generator may declare; the test harness gives each a placeholder value.
ACCOUNT_ID_VARIABLE = "account_id"
NETWORK_VARIABLE = "vpc_endpoint_network"
_STRING = Bare("string")
_NETWORK_FIELDS = (("vpc_id", _STRING), ("subnet_ids", call("list", _STRING)), ("security_group_ids", call("list", _STRING)))


def module_variables(grants: Grants) -> list[Block]:
    """The variable blocks the module declares for ``grants`` (before spec fields become inputs)."""
    variables = [
        Block(
            "variable",
            ("tags",),
            {
                "description": "Tags added to every resource this module creates, merged over the spec's role.tags.",
                "type": TypeConstraint(call("map", _STRING)),
                "default": {},
            },
            file="variables",
        )
    ]
    if grants.needs_account_id:
        variables.append(
            Block(
                "variable",
                (ACCOUNT_ID_VARIABLE,),
                {
                    "description": (
                        "ID of the AWS account this module is applied in, for ARNs and trust conditions "
                        "(an input because data.aws_caller_identity would call AWS at plan time)."
                    ),
                    "type": TypeConstraint(_STRING),
                    "validation": nested(
                        Block(
                            "validation",
                            body={
                                "condition": call("can", call("regex", "^[0-9]{12}$", var(ACCOUNT_ID_VARIABLE))),
                                "error_message": "account_id must be a 12-digit AWS account ID.",
                            },
                        )
                    ),
                },
                file="variables",
            )
        )
    endpoint_regions = [s.region for s in grants.regional if s.endpoints]
    if endpoint_regions:
        variables.append(_network_variable(grants, endpoint_regions))
    return variables


def _network_variable(grants: Grants, endpoint_regions: list[str]) -> Block:
    """``vpc_endpoint_network``: one entry per endpoint Region, no other key, route tables when S3's gateway needs them."""
    network = var(NETWORK_VARIABLE)
    regions = ListExpr(tuple(endpoint_regions))
    gateway = any(e.kind == "Gateway" for s in grants.regional for e in s.endpoints)
    gateway_fields = (("route_table_ids", call("list", _STRING)),) if gateway else ()
    # One check per Region, so the message names the Region that is missing.
    checks = [
        Block(
            "validation",
            body={
                "condition": call("contains", call("keys", network), region),
                "error_message": f"{NETWORK_VARIABLE} has no entry for Region {region}; it needs one for each of: {', '.join(endpoint_regions)}.",
            },
        )
        for region in endpoint_regions
    ]
    checks.append(
        Block(
            "validation",
            body={
                "condition": call("alltrue", For("region", call("keys", network), call("contains", regions, Ref("region")))),
                "error_message": (
                    f"{NETWORK_VARIABLE} keys must be Region codes of this module ({', '.join(endpoint_regions)}); "
                    "another key (such as us_east_1 for us-east-1) would be ignored."
                ),
            },
        )
    )
    if gateway:
        checks.append(
            Block(
                "validation",
                body={
                    "condition": call("alltrue", For("entry", call("values", network), Op(">", call("length", Ref("entry").attr("route_table_ids")), 0))),
                    "error_message": "The S3 gateway endpoint needs at least one route table ID (route_table_ids) in every Region.",
                },
            )
        )
    return Block(
        "variable",
        (NETWORK_VARIABLE,),
        {
            "description": (
                "Per Region (key): the VPC, subnets and security groups of the interface endpoints"
                + (", and the route tables of the S3 gateway endpoint." if gateway else ".")
            ),
            # route_table_ids only where the S3 gateway endpoint uses them, and then required
            # (Terraform drops attributes an object type does not declare).
            "type": TypeConstraint(call("map", call("object", Object((*_NETWORK_FIELDS, *gateway_fields))))),
            "validation": nested(*checks),
        },
        file="variables",
    )
