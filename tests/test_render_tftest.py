"""The module's own ``terraform test`` files: assertions built as expressions, printed by each renderer."""

from __future__ import annotations

import json

from ssm_profile.grants import build_grants
from ssm_profile.render.tftest import render_test_files
from ssm_profile.spec import spec_from_data


def _files(format: str = "hcl", **sections: object) -> dict[str, str]:
    grants = build_grants(spec_from_data({"version": 1, "regions": ["us-east-2"], **sections}))
    return render_test_files(grants, [], "h", format=format)


def test_an_existing_role_is_compared_by_its_literal_name() -> None:
    wiring = _files(role={"name": "Existing", "create": False})["tests/wiring.tftest.hcl"]
    run = wiring[wiring.index('run "resources_are_wired"') :]
    assert run == (
        'run "resources_are_wired" {\n'
        "  command = apply\n"
        "\n"
        "  assert {\n"
        '    condition     = output.role_name == "Existing"\n'
        '    error_message = "role_name output is not the role\'s name."\n'
        "  }\n"
        "\n"
        "  assert {\n"
        '    condition     = aws_iam_instance_profile.this.role == "Existing"\n'
        '    error_message = "The instance profile must carry the role."\n'
        "  }\n"
        "\n"
        "  assert {\n"
        '    condition     = aws_iam_role_policy_attachment.instance_core.role == "Existing"\n'
        '    error_message = "AmazonSSMManagedInstanceCore must be attached to the instance role."\n'
        "  }\n"
        "}\n"
    )


def test_expected_sets_are_one_item_per_line() -> None:
    policies = _files(role={"name": "Existing", "create": False})["tests/policies.tftest.hcl"]
    assert policies.endswith(
        "  assert {\n"
        "    condition = toset([aws_iam_role_policy_attachment.instance_core.policy_arn]) == toset([\n"
        '      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",\n'
        "    ])\n"
        '    error_message = "The AWS managed policies differ from the spec."\n'
        "  }\n"
        "}\n"
    )


def test_policy_assertions_read_the_planned_policy_json() -> None:
    policies = _files(s3={"buckets": [{"name": "org-logs"}]})["tests/policies.tftest.hcl"]
    doc = "jsondecode(aws_iam_policy.s3.policy).Statement"
    assert 'condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"\n' in policies
    assert 'condition     = length(replace(aws_iam_policy.s3.policy, "/\\\\s/", "")) <= 6144\n' in policies
    assert (
        f'condition     = alltrue([for a in flatten([for s in {doc} : s.Action]) : a != "*" && !endswith(a, ":*")])\n' in policies
    )
    assert (
        f'condition     = alltrue([for r in flatten([for s in {doc} : s.Resource]) : !startswith(r, "arn:aws:s3:::") || '
        'length(regexall("[*?]", split("/", r)[0])) == 0])\n' in policies
    )


def test_json_test_files_carry_the_same_conditions() -> None:
    hcl = _files(role={"name": "Existing", "create": False})["tests/wiring.tftest.hcl"]
    wiring = json.loads(_files("json", role={"name": "Existing", "create": False})["tests/wiring.tftest.json"])
    conditions = [a["condition"] for a in wiring["run"]["resources_are_wired"]["assert"]]
    assert conditions == [
        '${output.role_name == "Existing"}',
        '${aws_iam_instance_profile.this.role == "Existing"}',
        '${aws_iam_role_policy_attachment.instance_core.role == "Existing"}',
    ]
    assert all(f"condition     = {c[2:-1]}\n" in hcl for c in conditions)
