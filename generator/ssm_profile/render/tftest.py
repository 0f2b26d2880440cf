"""The module's own ``terraform test`` file, so the module carries its assertions with it.

Scanners let a wildcard Region through (``aws-ssm-*/*`` passes checkov and parliament), so
every generated module asserts its own policies from the planned JSON. ``tests/module.tftest.hcl``
(``.tftest.json`` beside a Terraform JSON module) is one ``plan`` with the real provider and mock
credentials, asserting:

* least privilege: no ``*`` action, ``*`` resource only for actions AWS defines without a
  resource type, no wildcard in a bucket ARN or a Region, exactly the expected actions and
  resources, each policy under IAM's size limit, trust policies naming only their service, each
  VPC endpoint the service AWS publishes for its Region;
* wiring: the instance profile carries the role, every attachment names the right role and
  policy, the outputs are wired. A policy's ARN is known only once AWS creates it, so the file
  overrides each custom policy's planned ARN with a distinct example one (``override_resource``
  with ``override_during = plan``, Terraform >= 1.11): an attachment naming the wrong policy fails.

One plan, not a plan and an apply against mock providers: Terraform starts the provider once per
Region in each plan, apply and teardown, so a second run block doubled the tests' cost.
"""

from __future__ import annotations

from ..grants.build import ACCOUNT, MANAGED_POLICY_MAX_CHARS, RESOURCELESS_ACTIONS, CustomPolicy, Grants
from ..tfmodule.build import provider_alias
from ..tfmodule.document import Bare, Block, Expr, For, ListExpr, Not, Op, Ref, ResourceAddress, all_of, call, nested, ref
from ..tfmodule.example_values import EXAMPLE_ACCOUNT, OFFLINE_PROVIDER, example_inputs

TEST_ACCOUNT = EXAMPLE_ACCOUNT
#: The module's test file, without its suffix (``.tftest.hcl`` or ``.tftest.json``).
TEST_FILE = "tests/module"
#: The one run block, as failures name it.
RUN = "least_privilege_and_wiring"
#: The first Terraform release whose tests can override a computed value during plan.
TERRAFORM_FOR_TESTS = (1, 11)


def render_test_files(grants: Grants, document_variables: list[str], header: str, format: str = "hcl") -> dict[str, str]:
    """``tests/module.tftest.hcl`` (or ``.tftest.json`` beside a Terraform JSON module) for ``grants``."""
    if format == "hcl":
        from .hcl import render_blocks
    else:
        from .tfjson import render_blocks

    blocks = [*_providers(grants), *_variables_block(grants, document_variables), *_policy_arns(grants), _run(grants)]
    return {f"{TEST_FILE}.tftest.{'hcl' if format == 'hcl' else 'json'}": render_blocks(blocks, header)}


def _aliases(grants: Grants) -> list[tuple[str, str]]:
    return [(s.region, provider_alias(s.region)) for s in grants.regional if not s.is_empty]


def _providers(grants: Grants) -> list[Block]:
    configs: list[tuple[str, str]] = [(grants.regions[0], ""), *_aliases(grants)]
    blocks = []
    for region, alias in configs:
        body: dict[str, object] = {"alias": alias} if alias else {}
        body.update({"region": region, **OFFLINE_PROVIDER})
        comment = () if alias else ("The real provider with mock credentials: plans need no AWS call.",)
        blocks.append(Block("provider", ("aws",), body, comment=comment))
    return blocks


_POLICY_ARNS_COMMENT = ("Each custom policy's ARN, known at plan (AWS assigns it on create): an attachment naming the wrong policy fails.",)


def _policy_arns(grants: Grants) -> list[Block]:
    """A distinct planned ARN per custom policy, for the wiring assertions."""
    iam = f"arn:{grants.partition.id}:iam::{TEST_ACCOUNT}:policy"
    blocks = []
    for number, policy in enumerate(grants.custom_policies):
        body = {
            "target": ResourceAddress.parse(f"aws_iam_policy.{policy.key}"),
            "override_during": Bare("plan"),
            "values": {"arn": f"{iam}/{policy.name}"},
        }
        blocks.append(Block("override_resource", body=body, comment=() if number else _POLICY_ARNS_COMMENT))
    return blocks


def _variables_block(grants: Grants, names: list[str]) -> list[Block]:
    values = example_inputs(names, [s.region for s in grants.regional if s.endpoints])
    return [Block("variables", body=values, comment=("Example inputs (AWS's documentation account).",))] if values else []


def _set_of(items: list[str]) -> Expr:
    """``toset([...])`` of literals, one per line."""
    return call("toset", ListExpr(tuple(items), one_per_line=True))


def _same_set(attributes: list[Expr], expected: list[str]) -> Expr:
    """``toset([attributes...]) == toset([expected...])``."""
    return Op("==", call("toset", ListExpr(tuple(attributes))), _set_of(expected))


def _assert(condition: Expr, message: str) -> Block:
    return Block("assert", body={"condition": condition, "error_message": message})


def _every(symbol: str, collection: Expr, condition: Expr) -> Expr:
    """``alltrue([for symbol in collection : condition])``."""
    return call("alltrue", For(symbol, collection, condition))


def _no_wildcard_in(text: Expr) -> Expr:
    """``length(regexall("[*?]", text)) == 0``."""
    return Op("==", call("length", call("regexall", "[*?]", text)), 0)


def _policy_asserts(policy: CustomPolicy, partition: str) -> list[Block]:
    policy_json = ref(f"aws_iam_policy.{policy.key}").attr("policy")
    doc = call("jsondecode", policy_json).attr("Statement")
    statement, action, arn = Ref("s"), Ref("a"), Ref("r")
    actions = call("flatten", For("s", doc, statement.attr("Action")))
    resources = call("flatten", For("s", doc, statement.attr("Resource")))
    resourceless = ListExpr(tuple(sorted(RESOURCELESS_ACTIONS)))
    # "*" as a resource only in statements whose every action has no resource type.
    star_only_resourceless = Op(
        "||",
        Not(call("contains", call("flatten", ListExpr((statement.attr("Resource"),))), "*")),
        _every("a", call("flatten", ListExpr((statement.attr("Action"),))), call("contains", resourceless, action)),
    )
    literal_region = _no_wildcard_in(call("try", call("split", ":", arn).index(3), ""))
    literal_bucket = Op("||", Not(call("startswith", arn, f"arn:{partition}:s3:::")), _no_wildcard_in(call("split", "/", arn).index(0)))
    expected_actions = sorted({a for s in policy.statements for a in s.actions})
    expected_resources = sorted({r.replace(ACCOUNT, TEST_ACCOUNT) for s in policy.statements for r in s.resources})
    name = policy.name
    return [
        _assert(
            Op("<=", call("length", call("replace", policy_json, "/\\s/", "")), MANAGED_POLICY_MAX_CHARS),
            f"{name} exceeds IAM's {MANAGED_POLICY_MAX_CHARS:,} characters.",
        ),
        _assert(_every("a", actions, all_of(Op("!=", action, "*"), Not(call("endswith", action, ":*")))), f"{name} grants a wildcard action."),
        _assert(_every("s", doc, star_only_resourceless), f"{name} grants * as a resource to an action that has a resource type."),
        _assert(_every("r", resources, literal_region), f"{name} has a wildcard Region in an ARN."),
        _assert(_every("r", resources, literal_bucket), f"{name} has a wildcard in a bucket name."),
        _assert(Op("==", call("toset", actions), _set_of(expected_actions)), f"{name} grants other actions than expected."),
        _assert(Op("==", call("toset", resources), _set_of(expected_resources)), f"{name} names other resources than expected."),
    ]


def _trusted_service(address: str) -> Expr:
    """The first statement's service principal of a role's trust policy."""
    trust = call("jsondecode", ref(address).attr("assume_role_policy"))
    return trust.attr("Statement").index(0).attr("Principal", "Service")


def _run(grants: Grants) -> Block:
    asserts = [*_least_privilege_asserts(grants), *_wiring_asserts(grants)]
    return Block(
        "run",
        (RUN,),
        {"command": Bare("plan"), "assert": nested(*asserts)},
        comment=("Every grant is checked from the planned policy JSON, not from this module's source; then the wiring.",),
    )


def _least_privilege_asserts(grants: Grants) -> list[Block]:
    asserts: list[Block] = []
    if grants.role.create:
        asserts.append(
            _assert(
                Op("==", _trusted_service("aws_iam_role.this"), grants.role.trusted_service),
                "The instance role must be trusted by EC2 only.",
            )
        )
    for role in grants.service_roles:
        asserts.append(
            _assert(
                Op("==", _trusted_service(f"aws_iam_role.{role.key}"), role.trusted_service),
                f"{role.name} must be trusted by Systems Manager only.",
            )
        )
    for policy in grants.custom_policies:
        asserts += _policy_asserts(policy, grants.partition.id)
    managed = sorted(p.arn for p in grants.managed_policies)
    if managed:
        attachments = [ref(f"aws_iam_role_policy_attachment.{p.key}").attr("policy_arn") for p in grants.managed_policies]
        asserts.append(_assert(_same_set(attachments, managed), "The AWS managed policies differ from the spec."))
    asserts += _service_role_policy_asserts(grants)
    asserts += _endpoint_asserts(grants)
    return asserts


def _service_role_policy_asserts(grants: Grants) -> list[Block]:
    """Each service role carries exactly its AWS managed policies (the hybrid role always the core one)."""
    asserts = []
    for role in grants.service_roles:
        keys = [role.managed_attachment_key(p) for p in role.managed_policies]
        attached = [ref(f"aws_iam_role_policy_attachment.{key}").attr("policy_arn") for key in keys]
        expected = sorted(p.arn for p in role.managed_policies)
        asserts.append(_assert(_same_set(attached, expected), f"{role.name} has other AWS managed policies than expected."))
    return asserts


def _endpoint_asserts(grants: Grants) -> list[Block]:
    """Each VPC endpoint names the service AWS publishes for its Region (China included) and its kind."""
    asserts = []
    for setup in grants.regional:
        for endpoint in setup.endpoints:
            address = ref(f"aws_vpc_endpoint.{endpoint.service}_{provider_alias(setup.region)}")
            asserts.append(
                _assert(
                    all_of(Op("==", address.attr("service_name"), endpoint.service_name), Op("==", address.attr("vpc_endpoint_type"), endpoint.kind)),
                    f"The {endpoint.service} endpoint in {setup.region} must be the {endpoint.kind} endpoint {endpoint.service_name}.",
                )
            )
    return asserts


def _wiring_asserts(grants: Grants) -> list[Block]:
    role: Expr | str = ref("aws_iam_role.this").attr("name") if grants.role.create else grants.role.name
    asserts = [_assert(Op("==", ref("output.role_name"), grants.role.name), "role_name output is not the role's name.")]
    if grants.instance_profile is not None:
        asserts.append(_assert(Op("==", ref("aws_iam_instance_profile.this").attr("role"), role), "The instance profile must carry the role."))
    for managed in grants.managed_policies:
        asserts.append(
            _assert(
                Op("==", ref(f"aws_iam_role_policy_attachment.{managed.key}").attr("role"), role),
                f"{managed.name} must be attached to the instance role.",
            )
        )
    for policy in grants.custom_policies:
        asserts.append(
            _assert(
                all_of(
                    Op("==", ref(f"aws_iam_role_policy_attachment.{policy.key}").attr("policy_arn"), ref(f"aws_iam_policy.{policy.key}").attr("arn")),
                    Op("==", ref(f"aws_iam_role_policy_attachment.{policy.key}").attr("role"), role),
                ),
                f"{policy.name} must be attached to the instance role.",
            )
        )
    names = {p.key: p.name for p in grants.custom_policies}
    for service_role in grants.service_roles:
        for key in service_role.custom_policy_keys:
            attachment = ref(f"aws_iam_role_policy_attachment.{service_role.key}_{key}")
            asserts.append(
                _assert(
                    all_of(
                        Op("==", attachment.attr("policy_arn"), ref(f"aws_iam_policy.{key}").attr("arn")),
                        Op("==", attachment.attr("role"), ref(f"aws_iam_role.{service_role.key}").attr("name")),
                    ),
                    f"{names[key]} must be attached to the {service_role.name} role.",
                )
            )
    return asserts
