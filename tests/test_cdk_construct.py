"""The SsmInstanceProfile construct in a CDK stack, and the example app that uses it, against real Terraform.

Nothing here skips: without cdktn (and cdktf 0.21, for the one test that hides cdktn) and
node these tests fail, and say what to install.
"""

from __future__ import annotations

import copy
import json
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, EXAMPLES_DIR, cached_plan
from ssm_profile import SpecError, generate, write_module
from ssm_profile.render.cdk_engine import cdk_library as cdk
from ssm_profile.terraform.harness import OFFLINE_PROVIDER, PLAN_FILE, normalise_plan, provider_bindings
from ssm_profile.terraform.runner import default_runner
from ssm_profile.tfmodule.build import provider_alias
from ssm_profile.tfmodule.document import Bare, Block, Document, Template, call, local, ref, var
from ssm_profile.tfmodule.example_values import EXAMPLE_ACCOUNT

pytestmark = pytest.mark.cdk
CDK_APP = EXAMPLES_DIR / "cdk-app"


def synth_stack(build) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from ssm_profile.cdk import SsmInstanceProfile

    lib = cdk()
    app = lib.Testing.app()
    stack = lib.TerraformStack(app, "test")
    build(stack, SsmInstanceProfile)
    return json.loads(lib.Testing.synth(stack))


def test_names_are_prefixed_by_walking_references() -> None:
    from ssm_profile.cdk import _renamer, _renames

    document = Document(
        (
            Block("locals", body={"tags": var("tags")}),
            Block("variable", ("tags",), {"default": {}}, file="variables"),
            Block("resource", ("aws_iam_policy", "s3"), {"name": "p"}),
            Block("resource", ("aws_iam_policy", "s3_2"), {"name": Template((var("tags"), "-2"))}),
        )
    )
    rename = _renamer(_renames(document, "ssm"))
    body = {
        "arns": [ref("aws_iam_policy.s3").attr("arn"), ref("aws_iam_policy.s3_2").attr("arn")],
        "name": Template(("x-", var("tags"))),
        "tags": call("merge", local("tags"), var("tags")),
    }
    assert rename(body) == {
        "arns": [ref("aws_iam_policy.ssm_s3").attr("arn"), ref("aws_iam_policy.ssm_s3_2").attr("arn")],
        "name": Template(("x-", local("ssm_var_tags"))),
        "tags": call("merge", local("ssm_tags"), local("ssm_var_tags")),
    }


def test_construct_declares_the_module_resources_under_its_own_names() -> None:
    captured = {}

    def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
        captured["a"] = SsmInstanceProfile(stack, "a", spec=EXAMPLES["vpc-endpoint-multi-region"])
        captured["b"] = SsmInstanceProfile(stack, "b-2", spec=EXAMPLES["existing-role"], variables={"tags": {"x": "y"}})

    synthesized = synth_stack(build)
    native = generate(EXAMPLES["vpc-endpoint-multi-region"]).document
    resources = {f"{t}.{n}" for t, names in synthesized["resource"].items() for n in names}
    expected_a = {f"{b.labels[0]}.a_{b.labels[1]}" for b in native.of_kind("resource")}
    expected_b = {f"{b.labels[0]}.b_2_{b.labels[1]}" for b in generate(EXAMPLES["existing-role"]).document.of_kind("resource")}
    assert resources == expected_a | expected_b
    a, b = captured["a"], captured["b"]
    assert set(a.elements) >= {b.address for b in native.blocks if b.kind in ("resource", "data")}
    assert a.role_arn and a.instance_profile_arn and a.policy_arns and a.s3_policy_arns
    assert b.role_arn is None  # the existing-role spec creates no role
    assert synthesized["locals"]["b_2_var_tags"] == {"x": "y"}
    assert synthesized["locals"]["a_var_tags"] == {}
    policy = synthesized["resource"]["aws_iam_role_policy_attachment"]["a_s3"]
    assert policy["policy_arn"] == "${aws_iam_policy.a_s3.arn}"
    assert "terraform" not in synthesized or "required_version" not in synthesized["terraform"]


def test_construct_rejects_an_unknown_variable() -> None:
    def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
        SsmInstanceProfile(stack, "a", spec={"version": 1, "regions": ["us-east-2"]}, variables={"tgas": {}})

    with pytest.raises(SpecError, match=re.escape("variables.tgas: not a variable of the module; allowed: tags")):
        synth_stack(build)


REGIONAL_SPEC = {
    "version": 1,
    "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "default_host_management": {"enabled": True},
    "s3": {"vpc_endpoint": True},
    "vpc_endpoints": {"enabled": True, "services": ["ssm", "s3"]},
}
TOKEN_NETWORK = ("vpc_id", "subnet_ids", "security_group_ids", "route_table_ids")


def raw_provider(stack, construct_id: str, region: str, alias: str = "", kind: str = "aws"):  # type: ignore[no-untyped-def]
    """A provider the way the core package declares one: raw, its alias set through an override."""
    provider = cdk().TerraformProvider(stack, construct_id, terraform_resource_type=kind)
    provider.add_override("region", region)
    if alias:
        provider.add_override("alias", alias)
    return provider


def token_inputs(stack) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The module's required inputs as CDK tokens: a data source's attribute, a resource's IDs."""
    caller = cdk().TerraformDataSource(stack, "caller", terraform_resource_type="aws_caller_identity")
    vpc = cdk().TerraformResource(stack, "vpc", terraform_resource_type="aws_vpc")
    vpc.override_logical_id("main")
    network = {key: vpc.get_string_attribute("id") if key == "vpc_id" else [vpc.get_string_attribute("id")] for key in TOKEN_NETWORK}
    return {
        "account_id": caller.get_string_attribute("account_id"),
        "vpc_endpoint_network": {region: network for region in REGIONAL_SPEC["regions"]},
    }


def test_construct_binds_each_regional_resource_to_the_provider_given_for_its_region() -> None:
    regions = REGIONAL_SPEC["regions"]
    aliases = dict(zip(regions, ("east", "west", "sydney"), strict=False))

    def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
        raw_provider(stack, "default", "us-east-1")
        providers = {region: raw_provider(stack, f"p{i}", region, aliases[region]) for i, region in enumerate(regions)}
        inputs = token_inputs(stack)
        SsmInstanceProfile(stack, "a", spec=REGIONAL_SPEC, providers=providers, variables=inputs)
        global_provider = raw_provider(stack, "iam", "us-east-1", "iam")
        SsmInstanceProfile(stack, "b", spec=REGIONAL_SPEC, providers={**providers, "global": global_provider}, variables=inputs)

    synthesized = synth_stack(build)
    native = generate(REGIONAL_SPEC).document
    regional = {  # the generated module's own binding: provider aws.<Region's alias> per resource
        f"{b.labels[0]}.{b.labels[1]}": b.body["provider"].text for b in native.blocks if "provider" in b.body
    }
    assert len(regional) == len(regions) * 3  # per Region: ssm and s3 endpoints, the service setting
    module_aliases = {f"aws.{provider_alias(region)}": aliases[region] for region in regions}
    for prefix, global_reference in (("a", None), ("b", "aws.iam")):
        for block in native.blocks:
            if block.kind not in ("resource", "data"):
                continue
            kind, name = block.labels
            declared = synthesized[block.kind][kind][f"{prefix}_{name}"]
            if f"{kind}.{name}" in regional:
                assert declared["provider"] == f"aws.{module_aliases[regional[f'{kind}.{name}']]}", (prefix, name)
            else:
                assert declared.get("provider") == global_reference, (prefix, name)
    # the tokens arrive as the references they stand for
    assert synthesized["locals"]["a_var_account_id"] == "${data.aws_caller_identity.caller.account_id}"
    assert synthesized["locals"]["b_var_vpc_endpoint_network"]["eu-west-1"]["vpc_id"] == "${aws_vpc.main.id}"
    setting = synthesized["resource"]["aws_ssm_service_setting"]["a_default_host_management_eu_west_1"]
    assert setting["setting_id"].startswith("arn:${local.a_partition}:ssm:eu-west-1:${local.a_var_account_id}:")


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (
            None,
            'providers: missing the stack\'s aws provider for us-east-1, eu-west-1, ap-southeast-2, where the spec '
            'creates regional resources; pass providers={"us-east-1": <aws provider>, "eu-west-1": <aws provider>, '
            '"ap-southeast-2": <aws provider>}',
        ),
        (
            {"us-east-1": "east", "global": "east"},
            "providers: missing the stack's aws provider for eu-west-1, ap-southeast-2, where the spec creates regional "
            'resources; pass providers={"eu-west-1": <aws provider>, "ap-southeast-2": <aws provider>}',
        ),
        (
            {"us-east-1": "east", "eu-west-1": "west", "ap-southeast-2": "west"},
            "providers.ap-southeast-2: the provider is configured for Region eu-west-1, not ap-southeast-2",
        ),
        (
            {"us-east-1": "east", "eu-west-1": "west", "ap-southeast-2": "sydney", "eu-west1": "west"},
            "providers.eu-west1: not a Region of the spec; allowed: us-east-1, eu-west-1, ap-southeast-2, global",
        ),
        (
            {"us-east-1": "east", "eu-west-1": "west", "ap-southeast-2": "google"},
            "providers.ap-southeast-2: must be an aws provider (hashicorp/aws), not google",
        ),
        (
            {"us-east-1": "plain-east", "eu-west-1": "west", "ap-southeast-2": "plain-sydney"},
            "providers.ap-southeast-2: is the provider configuration aws already given for us-east-1; each Region needs its own",
        ),
        (
            {"us-east-1": "east", "eu-west-1": "west", "ap-southeast-2": "text"},
            "providers.ap-southeast-2: must be an aws TerraformProvider of the stack, not str",
        ),
    ],
)
def test_construct_without_a_provider_for_each_region_names_what_is_missing(providers, message: str) -> None:  # type: ignore[no-untyped-def]
    def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
        declared = {
            "east": raw_provider(stack, "east", "us-east-1", "east"),
            "west": raw_provider(stack, "west", "eu-west-1", "west"),
            "sydney": raw_provider(stack, "sydney", "ap-southeast-2", "sydney"),
            "google": raw_provider(stack, "google", "ap-southeast-2", kind="google"),
            "plain-east": raw_provider(stack, "plain-east", "us-east-1"),  # unaliased: both are `aws`
            "plain-sydney": raw_provider(stack, "plain-sydney", "ap-southeast-2"),
            "text": "aws.sydney",
        }
        given = None if providers is None else {key: declared[value] for key, value in providers.items()}
        SsmInstanceProfile(stack, "a", spec=REGIONAL_SPEC, providers=given, variables=token_inputs(stack))

    with pytest.raises(SpecError) as caught:
        synth_stack(build)
    assert str(caught.value) == message


def test_example_readme_quotes_the_error_a_user_gets_without_providers() -> None:
    readme = (CDK_APP / "README.md").read_text(encoding="utf-8")
    quoted = next(line for line in readme.splitlines() if line.startswith("ssm_profile.errors.SpecError: "))

    def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
        SsmInstanceProfile(stack, "ssm", spec=CDK_APP / "two-regions.toml", variables={"account_id": EXAMPLE_ACCOUNT})

    with pytest.raises(SpecError) as caught:
        synth_stack(build)
    assert quoted == f"{type(caught.value).__module__}.SpecError: {caught.value}"
    assert caught.value.path == "providers"


def test_construct_checks_literal_inputs_and_passes_tokens() -> None:
    spec = {**REGIONAL_SPEC, "regions": ["us-east-1"]}

    def build_with(variables):  # type: ignore[no-untyped-def]
        def build(stack, SsmInstanceProfile):  # type: ignore[no-untyped-def]
            provider = raw_provider(stack, "east", "us-east-1", "east")
            SsmInstanceProfile(stack, "a", spec=spec, providers={"us-east-1": provider}, variables=variables(stack))

        return synth_stack(build)

    network = {"us-east-1": {key: "vpc-1" if key == "vpc_id" else ["x-1"] for key in TOKEN_NETWORK}}
    with pytest.raises(SpecError, match=r"^variables.account_id: required: the module's variable has no default$"):
        build_with(lambda stack: {"vpc_endpoint_network": network})
    with pytest.raises(SpecError, match=r"^variables.account_id: must be a 12-digit AWS account ID, not '1234'$"):
        build_with(lambda stack: {"account_id": "1234", "vpc_endpoint_network": network})
    with pytest.raises(SpecError, match=r"^variables.vpc_endpoint_network: needs an entry for each Region: us-east-1; missing: us-east-1$"):
        build_with(lambda stack: {"account_id": EXAMPLE_ACCOUNT, "vpc_endpoint_network": {"eu-west-1": network["us-east-1"]}})
    no_routes = {"us-east-1": {**network["us-east-1"], "route_table_ids": []}}
    with pytest.raises(SpecError, match=r"^variables.vpc_endpoint_network.us-east-1.route_table_ids: the S3 gateway endpoint needs"):
        build_with(lambda stack: {"account_id": EXAMPLE_ACCOUNT, "vpc_endpoint_network": no_routes})
    literal = build_with(lambda stack: {"account_id": EXAMPLE_ACCOUNT, "vpc_endpoint_network": network})
    assert literal["locals"]["a_var_account_id"] == EXAMPLE_ACCOUNT
    # A whole input as one token (a stack variable): nothing to check before synth.
    tokens = build_with(
        lambda stack: {
            "account_id": cdk().TerraformVariable(stack, "account", type="string").string_value,
            "vpc_endpoint_network": cdk().TerraformVariable(stack, "network").value,
        }
    )
    assert tokens["locals"]["a_var_account_id"] == "${var.account}"
    assert tokens["locals"]["a_var_vpc_endpoint_network"] == "${var.network}"


# --- the example app, with real Terraform -------------------------------------------------


@pytest.fixture(scope="module")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example app, synthesised once in this process (with cdktn): its namespace, app and output folder."""
    namespace = runpy.run_path(str(CDK_APP / "main.py"))
    outdir = tmp_path_factory.mktemp("cdk-app") / "cdktf.out"
    app = namespace["main"](outdir)
    return {"namespace": namespace, "app": app, "outdir": outdir}


def synthesized_stacks(outdir: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {name: json.loads((outdir / stack["synthesizedStackPath"]).read_text()) for name, stack in manifest["stacks"].items()}


def offline_root(stack: dict[str, Any], root: Path, variables: dict[str, Any] | None = None) -> Path:
    """A Terraform root of a synthesised stack that plans offline.

    The test root, not the app, holds what an offline plan needs: no backend (init runs with
    -backend=false), an override of each of the stack's provider configurations (matched by
    alias) with mock credentials, and the stack's variables.
    """
    stack = copy.deepcopy(stack)
    stack["terraform"].pop("backend")
    root.mkdir()
    (root / "cdk.tf.json").write_text(json.dumps(stack), encoding="utf-8")
    overrides = [{**OFFLINE_PROVIDER, **({"alias": c["alias"]} if "alias" in c else {})} for c in stack["provider"]["aws"]]
    (root / "offline_override.tf.json").write_text(json.dumps({"provider": {"aws": overrides}}), encoding="utf-8")
    if variables:
        (root / "offline.auto.tfvars.json").write_text(json.dumps(variables), encoding="utf-8")
    return root


def offline_plan(root: Path) -> dict[str, Any]:
    """``terraform show -json`` of the root's plan: init, plan (which validates the configuration
    first, so no separate ``validate`` and its provider start), show."""
    runner = default_runner()
    runner.init(root)
    runner.plan(root, PLAN_FILE)
    return runner.show(root, PLAN_FILE)


@pytest.mark.terraform
def test_example_app_plans_the_same_resources_as_the_native_module(example_app: dict[str, Any], tmp_path: Path) -> None:
    root = offline_root(synthesized_stacks(example_app["outdir"])["ssm-demo"], tmp_path / "root")
    plan = offline_plan(root)

    native_dir = tmp_path / "native"
    write_module(generate(CDK_APP / "ssm-profile.toml"), native_dir)
    native = {c["address"].removeprefix("module.ssm_profile."): c for c in normalise_plan(cached_plan(native_dir))["resource_changes"]}
    planned = {c["address"]: c for c in normalise_plan(plan)["resource_changes"]}
    assert set(planned) == {f"{a.split('.')[0]}.ssm_{a.split('.')[1]}" for a in native}
    for address, change in native.items():
        kind, name = address.split(".")
        mine = planned[f"{kind}.ssm_{name}"]
        assert mine["actions"] == change["actions"] == ["create"]
        expected = dict(change["after"])
        for attribute in ("tags", "tags_all"):  # the app sets the module's tags variable
            if attribute in expected:
                expected[attribute] = {**(expected[attribute] or {}), "Stack": "ssm-demo"}
        assert mine["after"] == expected, address
    outputs = plan["planned_values"]["outputs"]
    assert outputs["instance_profile_name"]["value"] == "AppSSMInstanceRole"
    assert set(outputs) == {"instance_profile_name", "role_arn", "policy_arns"}
    # policy_arns holds the custom policy's ARN, unknown until apply; the AWS managed ones are known
    assert "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" in json.dumps(plan["output_changes"]["policy_arns"])


@pytest.mark.terraform
def test_two_region_stack_binds_each_regional_resource_to_its_regions_provider(example_app: dict[str, Any], tmp_path: Path) -> None:
    stack = example_app["app"].node.find_child("ssm-two-regions")
    # The provider objects the stack declared and handed to the construct, by Region.
    expected = {region: provider.fqn for region, provider in stack.providers.items()}
    assert expected == {"us-east-1": "aws.use1", "eu-west-1": "aws.euw1"}
    synthesized = synthesized_stacks(example_app["outdir"])["ssm-two-regions"]
    root = offline_root(synthesized, tmp_path / "root", {"account_id": EXAMPLE_ACCOUNT})
    plan = offline_plan(root)

    bindings = provider_bindings(plan)
    planned = {c["address"]: c["change"] for c in plan["resource_changes"]}
    assert set(planned) <= set(bindings)  # bindings hold the data sources too, read during the plan
    spec = CDK_APP / "two-regions.toml"
    native = generate(spec).document
    regional = {  # the generated module's own regional resources, by their name in the stack
        f"{b.labels[0]}.ssm_{b.labels[1]}": region
        for b in native.of_kind("resource")
        for region in expected
        if b.body.get("provider") == Bare(f"aws.{provider_alias(region)}")
    }
    assert len(regional) == 2 * 5  # per Region: four endpoints and the Default Host Management setting
    network = {address: region for address in planned for region, alias in (("us-east-1", "use1"), ("eu-west-1", "euw1")) if f".network_{alias}_" in address}
    assert len(network) == 2 * 5  # per Region: VPC, subnet, security group and its rule, route table
    module_resources = {f"{b.labels[0]}.ssm_{b.labels[1]}" for b in native.of_kind("resource")}
    assert set(planned) == module_resources | set(network)
    assert {a for a in bindings if a.startswith("data.")} == {f"data.{b.labels[0]}.ssm_{b.labels[1]}" for b in native.of_kind("data")}
    for address, binding in bindings.items():
        region = regional.get(address) or network.get(address)
        if region is None:  # global IAM and the partition guard: the stack's default provider
            assert binding == {"provider": "aws", "region": "us-east-1"}, address
        else:
            assert binding == {"provider": expected[region], "region": region}, address
    assert {change["actions"][0] for change in planned.values()} == {"create"}
    # the tokens reached the plan: the stack's account_id variable, the networks' unknown IDs
    settings = {a: planned[a]["after"] for a in regional if a.startswith("aws_ssm_service_setting.")}
    for address, after in settings.items():
        assert after["setting_id"].startswith(f"arn:aws:ssm:{regional[address]}:{EXAMPLE_ACCOUNT}:servicesetting/"), address
    for address in (a for a in regional if a.startswith("aws_vpc_endpoint.")):
        assert planned[address]["after"]["service_name"].startswith(f"com.amazonaws.{regional[address]}."), address
        assert planned[address]["after_unknown"]["vpc_id"] is True, address
    assert plan["planned_values"]["outputs"]["instance_profile_name"]["value"] == "AppSSMInstanceRoleTwoRegions"


def test_example_app_synthesises_the_same_stacks_with_cdktf(example_app: dict[str, Any], tmp_path: Path) -> None:
    """CDK for Terraform 0.21 alone (cdktn hidden): the same Terraform JSON as with CDK Terrain.

    The cdktn synth is the one planned above, so the same JSON is what cdktf users get planned.
    """
    code = (
        "import sys, json, runpy\n"
        "sys.modules['cdktn'] = None  # as if only cdktf were installed: importing cdktn raises\n"
        f"runpy.run_path({str(CDK_APP / 'main.py')!r})['main']({str(tmp_path / 'out')!r})\n"
        "from ssm_profile.render.cdk_engine import cdk_library\n"
        "from importlib.metadata import version\n"
        "print(json.dumps({name: sys.modules.get(name) and version(name) for name in ('cdktn', 'cdktf')}))\n"
        "print(cdk_library().__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    loaded, library = result.stdout.splitlines()
    assert library == "cdktf"
    assert json.loads(loaded)["cdktn"] is None and json.loads(loaded)["cdktf"].startswith("0.21.")

    def comparable(stack: dict[str, Any]) -> dict[str, Any]:
        stack = _without_metadata(stack)
        stack["terraform"].pop("backend")  # a local state path under each app's own folder
        return stack

    with_cdktf = synthesized_stacks(tmp_path / "out")
    with_cdktn = synthesized_stacks(example_app["outdir"])
    assert sorted(with_cdktf) == sorted(with_cdktn) == ["ssm-demo", "ssm-two-regions"]
    for name in with_cdktn:
        assert comparable(with_cdktf[name]) == comparable(with_cdktn[name]), name
        assert with_cdktf[name]["//"]["metadata"]["version"].startswith("0.21.")


def _without_metadata(value: Any) -> Any:
    """A synthesised stack without CDK's ``//`` metadata (library version, construct paths)."""
    if isinstance(value, dict):
        return {key: _without_metadata(item) for key, item in value.items() if key != "//"}
    if isinstance(value, list):
        return [_without_metadata(item) for item in value]
    return value
