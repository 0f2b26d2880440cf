"""The bad-input catalogue: every invalid spec or option exits 2 with one line naming the
field and what is allowed, writes nothing, and leaves an existing module untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run
from ssm_profile.errors import SpecError
from ssm_profile.spec.load import load_spec, spec_from_data

OK = {"version": 1, "regions": ["us-east-2"]}


def spec(**changes: object) -> dict:
    data = json.loads(json.dumps(OK))
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def bucket(**fields: object) -> dict:
    return spec(s3__buckets=[{"name": "good-bucket", **fields}])


# (case id, spec file name, file text or data, expected start of the message after "error: ")
CASES = [
    ("empty-toml", "s.toml", "", "s.toml: the file is empty"),
    ("empty-yaml", "s.yaml", "   \n", "s.yaml: the file is empty"),
    ("empty-json", "s.json", "", "s.json: the file is empty"),
    ("malformed-toml", "s.toml", "version = = 1", "s.toml: not valid TOML"),
    ("malformed-yaml", "s.yaml", "version: [1\nregions: x", "s.yaml: not valid YAML"),
    ("malformed-json", "s.json", '{"version": 1,', "s.json: not valid JSON"),
    ("yaml-list-top", "s.yaml", "- a\n- b\n", "spec: the top level must be a table of settings, got a list"),
    ("json-string-top", "s.json", '"hello"', "spec: the top level must be a table of settings, got a string"),
    ("unknown-extension", "s.ini", "x", "s.ini: unknown spec file type '.ini'"),
    ("missing-version", "s.json", {"regions": ["us-east-2"]}, "version: is required"),
    ("missing-regions", "s.json", {"version": 1}, "regions: is required"),
    ("version-2", "s.json", spec(version=2), "version: 2 is not allowed; allowed: 1"),
    ("version-string", "s.json", spec(version="1"), "version: expected an integer, got a string"),
    ("regions-not-list", "s.json", spec(regions="us-east-2"), "regions: expected a list, got a string"),
    ("regions-empty", "s.json", spec(regions=[]), "regions: must have at least 1 entries"),
    ("region-unknown", "s.json", spec(regions=["us-east-9"]), "regions[0]: 'us-east-9' is not a Region of any supported partition (did you mean us-east-1?)"),
    ("region-typo", "s.json", spec(regions=["eu-wset-1"]), "regions[0]: 'eu-wset-1' is not a Region of any supported partition (did you mean eu-west-1?)"),
    ("region-wildcard", "s.json", spec(regions=["us-east-*"]), "regions[0]: 'us-east-*': a wildcard is not allowed"),
    ("region-star", "s.json", spec(regions=["*"]), "regions[0]: '*': a wildcard is not allowed"),
    ("region-duplicate", "s.json", spec(regions=["us-east-2", "us-east-2"]), "regions[1]: 'us-east-2' is listed twice"),
    ("region-other-partition", "s.json", spec(regions=["us-east-2", "cn-north-1"]), "regions[1]: 'cn-north-1' is in partition aws-cn"),
    ("region-not-in-partition", "s.json", spec(regions=["us-east-2"], partition="aws-cn"), "regions[0]: 'us-east-2' belongs to partition aws"),
    ("region-int", "s.json", spec(regions=[1]), "regions[0]: expected a string, got an integer"),
    ("partition-unknown", "s.json", spec(partition="aws-mars"), "partition: 'aws-mars' is not supported; allowed: aws, aws-cn, aws-us-gov"),
    ("unknown-top-key", "s.json", {**OK, "rgions": []}, "rgions: unknown field (did you mean regions?)"),
    ("unknown-role-key", "s.json", spec(role__nmae="x"), "role.nmae: unknown field (did you mean name?)"),
    ("unknown-s3-key", "s.json", spec(s3__vpc_endpoints=True), "s3.vpc_endpoints: unknown field (did you mean vpc_endpoint?)"),
    ("unknown-bucket-key", "s.json", bucket(encryptd=True), "s3.buckets[0].encryptd: unknown field (did you mean encrypted?)"),
    ("role-name-too-long", "s.json", spec(role__name="R" * 65), "role.name: must have at most 64 characters"),
    ("role-name-empty", "s.json", spec(role__name=""), "role.name: must have at least 1 characters"),
    ("role-name-bad-chars", "s.json", spec(role__name="my role!"), "role.name: must use only ASCII letters, digits and + = , . @ _ -; ' ' (U+0020 SPACE) is not allowed"),
    ("role-create-string", "s.json", spec(role__create="yes"), "role.create: expected true or false, got a string"),
    ("role-tags-not-map", "s.json", spec(role__tags=["a"]), "role.tags: expected a table, got a list"),
    ("role-tag-value-int", "s.json", spec(role__tags={"Team": 1}), "role.tags"),
    ("role-tag-aws-prefix", "s.json", spec(role__tags={"aws:owner": "me"}), 'role.tags["aws:owner"]: tag keys starting with aws: are reserved'),
    ("role-tag-too-long", "s.json", spec(role__tags={"k": "v" * 257}), 'role.tags["k"]: tag values must be at most 256 characters'),
    ("role-too-many-tags", "s.json", spec(role__tags={f"k{i}": "v" for i in range(51)}), "role.tags: must have at most 50 entries"),
    ("role-path-no-slash", "s.json", spec(role__path="ssm"), "role.path: must be a path that starts and ends with /"),
    ("role-path-too-long", "s.json", spec(role__path="/" + "a" * 511 + "/"), "role.path: must have at most 512 characters"),
    ("role-boundary-not-arn", "s.json", spec(role__permissions_boundary="PlatformBoundary"), "role.permissions_boundary: 'PlatformBoundary' is not a managed policy ARN of partition aws"),
    ("role-boundary-other-partition", "s.json", spec(role__permissions_boundary="arn:aws-cn:iam::111122223333:policy/B"), "role.permissions_boundary: 'arn:aws-cn:iam::111122223333:policy/B' is not a managed policy ARN of partition aws"),
    ("role-session-too-short", "s.json", spec(role__max_session_duration=60), "role.max_session_duration: must be at least 3600"),
    ("role-session-too-long", "s.json", spec(role__max_session_duration=43201), "role.max_session_duration: must be at most 43200"),
    ("existing-role-description", "s.json", spec(role__create=False, role__description="x"), "role.description: only applies to a role ssm-profile creates"),
    ("profile-name-too-long", "s.json", spec(instance_profile__name="p" * 129), "instance_profile.name: must have at most 128 characters"),
    ("profile-name-without-profile", "s.json", spec(instance_profile__create=False, instance_profile__name="x"), "instance_profile.name: is set but instance_profile.create is false"),
    ("managed-policy-string", "s.json", spec(managed_policies__cloudwatch_agent="true"), "managed_policies.cloudwatch_agent: expected true or false, got a string"),
    ("policy-name-too-long", "s.json", spec(s3__policy_name="P" * 129), "s3.policy_name: must have at most 128 characters"),
    ("policy-name-bad-chars", "s.json", spec(s3__policy_name="my policy"), "s3.policy_name"),
    ("agent-set-unknown", "s.json", spec(s3__agent_buckets="latest"), "s3.agent_buckets: 'latest' is not allowed; allowed: \"all\", \"current\", \"seed\""),
    ("bucket-slash", "s.json", spec(s3__buckets=[{"name": "my-bucket/logs"}]), "s3.buckets[0].name: 'my-bucket/logs' may hold only lower-case letters, digits, dots and hyphens (legacy"),
    ("bucket-space", "s.json", spec(s3__buckets=[{"name": "My Bucket"}]), "s3.buckets[0].name: 'My Bucket' may hold only"),
    ("bucket-arn", "s.json", spec(s3__buckets=[{"name": "arn:aws:s3:::my-bucket"}]), "s3.buckets[0].name: 'arn:aws:s3:::my-bucket' may hold only"),
    ("bucket-too-long-even-legacy", "s.json", spec(s3__buckets=[{"name": "a" * 256}]), "s3.buckets[0].name: must have at most 255 characters"),
    ("bucket-double-dot", "s.json", spec(s3__buckets=[{"name": "my..bucket"}]), "s3.buckets[0].name: 'my..bucket' must not contain two adjacent dots"),
    ("bucket-ip", "s.json", spec(s3__buckets=[{"name": "192.168.1.1"}]), "s3.buckets[0].name: '192.168.1.1' must not be formatted as an IP address"),
    ("bucket-too-short", "s.json", spec(s3__buckets=[{"name": "ab"}]), "s3.buckets[0].name: must have at least 3 characters"),
    ("bucket-hyphen-end", "s.json", spec(s3__buckets=[{"name": "bucket-"}]), "s3.buckets[0].name: 'bucket-' must begin and end with a letter or digit"),
    ("bucket-reserved-prefix", "s.json", spec(s3__buckets=[{"name": "xn--bucket"}]), "s3.buckets[0].name: 'xn--bucket' must not start with 'xn--'"),
    ("bucket-wildcard", "s.json", spec(s3__buckets=[{"name": "logs-*"}]), "s3.buckets[0].name: 'logs-*' may hold only lower-case letters"),
    ("session-key-type", "s.json", spec(session_manager__enabled=True, session_manager__kms_key_arn=5), "session_manager.kms_key_arn: expected a string or a table, got an integer"),
    ("session-key-single-region", "s.json", spec(regions=["us-east-2", "eu-west-1"], session_manager__enabled=True, session_manager__kms_key_arn="arn:aws:kms:us-east-2:111122223333:key/abcd"), "session_manager.kms_key_arn: 'arn:aws:kms:us-east-2:111122223333:key/abcd' is a single-Region key"),
    ("session-log-key-alias", "s.json", spec(session_manager__enabled=True, session_manager__s3_log_bucket="logs-bucket", session_manager__s3_log_kms_key_arn="arn:aws:kms:us-east-2:111122223333:alias/x"), "session_manager.s3_log_kms_key_arn: 'arn:aws:kms:us-east-2:111122223333:alias/x' is not a KMS key ARN"),
    ("endpoint-service-unknown", "s.json", spec(vpc_endpoints__services=["ec2"]), "vpc_endpoints.services[0]: 'ec2' is not allowed; allowed: \"ec2messages\", \"kms\", \"logs\""),
    ("bucket-missing-name", "s.json", spec(s3__buckets=[{"encrypted": True}]), "s3.buckets[0].name: is required"),
    ("bucket-duplicate", "s.json", spec(s3__buckets=[{"name": "same-bucket"}, {"name": "same-bucket"}]), "s3.buckets[1].name: 'same-bucket' is listed twice"),
    ("suffix-for-other-region", "s.json", spec(s3__agent_bucket_suffixes={"eu-west-1": {"patch_manager": "abc"}}), 's3.agent_bucket_suffixes["eu-west-1"]: \'eu-west-1\' is not one of the spec\'s regions'),
    ("suffix-missing-region", "s.json", spec(regions=["ap-southeast-7"], s3__vpc_endpoint=True, s3__agent_buckets="current"), 's3.agent_bucket_suffixes["ap-southeast-7"]: bucket set \'current\' needs the patch_manager'),
    ("suffix-missing-cn", "s.json", spec(regions=["cn-north-1"], s3__vpc_endpoint=True), 's3.agent_bucket_suffixes["cn-north-1"]: bucket set \'all\' needs'),
    ("limits-too-high", "s.json", spec(limits__managed_policies_per_role=21), "limits.managed_policies_per_role: must be at most 20"),
    # -- hostile input (issue 10): a trailing newline, non-ASCII look-alikes, control characters
    ("role-name-newline", "s.json", spec(role__name="Role\n"), "role.name: must use only ASCII letters, digits and + = , . @ _ -; '\\n' (U+000A) is not allowed"),
    ("role-name-cyrillic", "s.json", spec(role__name="R\u043ele"), "role.name: must use only ASCII letters, digits and + = , . @ _ -; 'о' (U+043E CYRILLIC SMALL LETTER O)"),
    ("profile-name-newline", "s.json", spec(instance_profile__name="P\n"), "instance_profile.name: must use only ASCII letters"),
    ("policy-name-newline", "s.json", spec(s3__policy_name="P\n"), "s3.policy_name: must use only ASCII letters"),
    ("session-policy-arabic-digit", "s.json", spec(session_manager__policy_name="P\u0661"), "session_manager.policy_name: must use only ASCII letters"),
    ("dhm-role-newline", "s.json", spec(default_host_management__role_name="R\n"), "default_host_management.role_name: must use only ASCII"),
    ("hybrid-role-unicode", "s.json", spec(hybrid__role_name="Rôle"), "hybrid.role_name: must use only ASCII"),
    ("role-path-newline", "s.json", spec(role__path="/ssm/\n"), "role.path: must be a path that starts and ends with /"),
    ("role-path-double-slash", "s.json", spec(role__path="//"), "role.path: must be a path that starts and ends with /"),
    ("role-path-empty-folder", "s.json", spec(role__path="/a//b/"), "role.path: must be a path that starts and ends with /"),
    ("role-path-asterisk", "s.json", spec(role__path="/a*/"), "role.path: must be a path"),
    ("role-description-control", "s.json", spec(role__description="a\x00b"), "role.description: must be printable ASCII and Latin-1 characters; '\\x00' (U+0000) is not allowed"),
    ("role-boundary-newline", "s.json", spec(role__permissions_boundary="arn:aws:iam::111122223333:policy/B\n"), "role.permissions_boundary: 'arn:aws:iam::111122223333:policy/B\\n' is not a managed policy ARN"),
    ("role-boundary-arabic-account", "s.json", spec(role__permissions_boundary="arn:aws:iam::\u0661\u0661\u0661\u0661\u0662\u0662\u0662\u0662\u0663\u0663\u0663\u0663:policy/B"), "role.permissions_boundary:"),
    ("kms-key-newline", "s.json", spec(session_manager__enabled=True, session_manager__kms_key_arn="arn:aws:kms:us-east-2:111122223333:key/abc\n"), "session_manager.kms_key_arn: 'arn:aws:kms:us-east-2:111122223333:key/abc\\n' is not a KMS key ARN"),
    ("log-prefix-wildcard", "s.json", spec(session_manager__enabled=True, session_manager__s3_log_bucket="my-logs", session_manager__s3_log_prefix="*"), "session_manager.s3_log_prefix: must be an S3 key prefix"),
    ("log-prefix-newline", "s.json", spec(session_manager__enabled=True, session_manager__s3_log_bucket="my-logs", session_manager__s3_log_prefix="logs\n"), "session_manager.s3_log_prefix: must be an S3 key prefix"),
    ("log-bucket-newline", "s.json", spec(session_manager__enabled=True, session_manager__s3_log_bucket="my-logs\n"), "session_manager.s3_log_bucket: 'my-logs\\n' may hold only lower-case letters"),
    ("log-group-unicode", "s.json", spec(session_manager__enabled=True, session_manager__cloudwatch_log_group="lögs"), "session_manager.cloudwatch_log_group: must be a log group name"),
    ("bucket-newline", "s.json", spec(s3__buckets=[{"name": "good-bucket\n"}]), "s3.buckets[0].name: 'good-bucket\\n' may hold only lower-case letters"),
    ("suffix-newline", "s.json", spec(regions=["ap-southeast-7"], s3__agent_bucket_suffixes={"ap-southeast-7": {"patch_manager": "abc\n"}}), 's3.agent_bucket_suffixes["ap-southeast-7"].patch_manager: must be lower-case ASCII letters and digits'),
    ("suffix-region-newline", "s.json", spec(s3__agent_bucket_suffixes={"us-east-2\n": {"patch_manager": "abc"}}), 's3.agent_bucket_suffixes["us-east-2\\n"]: \'us-east-2\\n\' is not one of the spec\'s regions'),
    ("region-newline", "s.json", spec(regions=["us-east-2\n"]), "regions[0]: 'us-east-2\\n' is not a Region"),
    ("region-huge", "s.json", spec(regions=["x" * 200_000]), "regions[0]: 'xxxxxxxxxx"),
    ("partition-newline", "s.json", spec(partition="aws\n"), "partition: 'aws\\n' is not supported"),
    ("tag-key-newline", "s.json", spec(role__tags={"Team\n": "a"}), 'role.tags["Team\\n"]: the tag key holds \'\\n\' (U+000A), which IAM tags do not allow'),
    ("tag-value-tab", "s.json", spec(role__tags={"Team": "a\tb"}), 'role.tags["Team"]: the tag value holds \'\\t\' (U+0009), which IAM tags do not allow'),
    ("tag-value-wildcard", "s.json", spec(role__tags={"Team": "a*"}), 'role.tags["Team"]: the tag value holds \'*\''),
    ("tag-key-line-separator-in-path", "s.json", spec(role__tags={"a\u2028b\x85c": "v"}), 'role.tags["a\\u2028b\\x85c"]: the tag key holds'),
    ("tag-key-huge", "s.json", spec(role__tags={"k" * 5000: "v"}), 'role.tags["kkkkkkkkkk'),
    ("unknown-key-newline", "s.json", {**OK, "rol\ne": {}}, 'spec["rol\\ne"]: unknown field'),
    ("version-bool", "s.json", spec(version=True), "version: expected an integer, got true or false"),
    ("limits-float", "s.json", spec(limits__managed_policies_per_role=10.0), "limits.managed_policies_per_role: expected an integer, got a number"),
    ("services-null", "s.json", spec(vpc_endpoints__services=[None]), "vpc_endpoints.services[0]: expected a string, got nothing (null)"),
    # -- hostile files: duplicate keys, YAML tags and keys, nesting, encodings
    ("json-duplicate-key", "s.json", '{"version": 1, "regions": ["us-east-2"], "version": 1}', "version: the key is given twice"),
    ("json-duplicate-tag", "s.json", '{"version": 1, "regions": ["us-east-2"], "role": {"tags": {"Team": "a", "Team": "b"}}}', 'role.tags["Team"]: the key is given twice'),
    ("yaml-duplicate-key", "s.yaml", "version: 1\nregions: [us-east-2]\nrole:\n  name: a\n  name: b\n", "role.name: the key is given twice"),
    ("toml-duplicate-key", "s.toml", 'version = 1\nregions = ["us-east-2"]\nversion = 1\n', "version: the key is given twice"),
    ("toml-duplicate-tag", "s.toml", 'version = 1\nregions = ["us-east-2"]\n[role.tags]\nTeam = "a"\n"Team" = "b"\n', 'role.tags["Team"]: the key is given twice'),
    ("toml-duplicate-in-array", "s.toml", 'version = 1\nregions = ["us-east-2"]\n[[s3.buckets]]\nname = "a-bucket"\n[[s3.buckets]]\nname = "b-bucket"\nname = "c-bucket"\n', "s3.buckets[1].name: the key is given twice"),
    ("toml-duplicate-table", "s.toml", 'version = 1\nregions = ["us-east-2"]\n[role]\n[role]\n', "role: the key is given twice"),
    ("toml-duplicate-inline", "s.toml", 'version = 1\nregions = ["us-east-2"]\nrole = {name = "a", name = "b"}\n', "s.toml: not valid TOML: Duplicate inline table key 'name'"),
    ("yaml-set", "s.yaml", "version: 1\nregions: !!set {us-east-2: null}\n", "regions: a YAML set is not allowed; write a list"),
    ("yaml-python-tag", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: !!python/object/apply:os.getcwd []\n", "role: the YAML tag '!!python/object/apply:os.getcwd' is not allowed"),
    ("yaml-binary", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: {name: !!binary aGk=}\n", "role.name: the YAML tag '!!binary' is not allowed"),
    ("yaml-date", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: {tags: {Since: 2024-01-01}}\n", 'role.tags["Since"]: a YAML date is not allowed; quote it'),
    ("yaml-bad-bool", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: {create: !!bool maybe}\n", "role.create: 'maybe' is not a valid !!bool"),
    ("yaml-bad-int", "s.yaml", "version: !!int one\nregions: [us-east-2]\n", "version: 'one' is not a valid !!int"),
    ("yaml-custom-tag", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: !mine {}\n", "role: the YAML tag '!mine' is not allowed"),
    ("yaml-int-key", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: {tags: {1: a}}\n", "role.tags: the key 1 is not a string"),
    ("yaml-bool-key", "s.yaml", "version: 1\nregions: [us-east-2]\nyes: 1\n", "spec: the key True is not a string"),
    ("yaml-list-key", "s.yaml", "version: 1\nregions: [us-east-2]\n? [a]\n: 1\n", "spec: a list or map is used as a key"),
    ("yaml-billion-laughs", "s.yaml", "version: 1\nregions: [us-east-2]\nx0: &a0 [l, l, l, l, l, l, l, l, l, l]\n" + "".join(f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)), "x4[7][8][8][8][6]: expands to more than 100000 values through YAML aliases"),
    ("yaml-deep-recursive-alias", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: &a {x: *a}\n", "role.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x: nested more than 16 levels deep"),
    ("yaml-deep-recursive-merge", "s.yaml", "version: 1\nregions: [us-east-2]\nrole: &a {<<: *a}\n", "s.yaml: nested more than 16 levels deep"),
    ("json-deep", "s.json", "[" * 100_000, "s.json: nested more than 16 levels deep"),
    ("json-deep-object", "s.json", '{"a": ' * 100_000, "s.json: nested more than 16 levels deep"),
    ("json-deep-parsed", "s.json", '{"role": ' * 20 + "1" + "}" * 20, "role.role.role.role.role.role.role.role.role.role.role.role.role.role.role.role: nested more than 16 levels deep"),
    ("toml-deep-array", "s.toml", "a = " + "[" * 100_000, "s.toml: nested more than 16 levels deep"),
    ("toml-deep-inline", "s.toml", "a = " + "{b = " * 100_000, "s.toml: nested more than 16 levels deep"),
    ("toml-deep-dotted", "s.toml", ".".join(["a"] * 100_000) + " = 1\n", "s.toml: nested more than 16 levels deep"),
    ("toml-deep-header", "s.toml", "[" + ".".join(["a"] * 100_000) + "]\n", "s.toml: nested more than 16 levels deep"),
    ("yaml-deep-flow", "s.yaml", "a: " + "[" * 100_000, "s.yaml: nested more than 16 levels deep"),
    ("yaml-deep-block", "s.yaml", "- " * 100_000 + "x", "s.yaml: nested more than 16 levels deep"),
    ("yaml-deep-parsed", "s.yaml", "role: " + "[" * 20 + "]" * 20, "role[0][0]"),
    ("not-utf8", "s.json", b'{"version": 1, "regions": ["us-east-\xff"]}', "s.json: is not UTF-8 text: byte 0xff on line 1"),
    ("utf16", "s.yaml", "version: 1\n".encode("utf-16"), "s.yaml: is not UTF-8 text"),
    ("yaml-huge-int", "s.yaml", "version: 1\nregions: [us-east-2]\nlimits: {managed_policies_per_role: " + "9" * 5000 + "}\n", "s.yaml: holds a number of more than 4300 digits"),
    ("json-nan", "s.json", '{"version": NaN, "regions": ["us-east-2"]}', "s.json: not valid JSON: NaN is not a JSON number"),
    ("limits-exceeded", "s.json", spec(managed_policies__directory_service=True, managed_policies__cloudwatch_agent=True, s3__buckets=[{"name": "b-one"}], limits__managed_policies_per_role=3), "limits.managed_policies_per_role: the role needs 4 managed policies"),
]

CASES_BY_ID = {case[0]: case[2] for case in CASES}


@pytest.mark.parametrize(("file_name", "content", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, file_name: str, content: object, expected: str) -> None:
    path = tmp_path / file_name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif file_name.endswith(".json"):
        path.write_text(json.dumps(content), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
    out = tmp_path / "module"
    code, out_text, err = run("generate", str(path), "-o", str(out))
    assert code == 2, out_text + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    message = lines[0].removeprefix("ssm-profile: error: ")
    if expected.startswith(("s.", "spec:")):
        message = message.replace(str(tmp_path) + "/", "")
    assert message.startswith(expected), message
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [file_name]


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_bad_input_leaves_an_existing_module_untouched(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(OK))
    out = tmp_path / "module"
    assert run("generate", str(good), "-o", str(out))[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for _, file_name, content, _ in CASES:
        path = tmp_path / file_name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        assert run("generate", str(path), "-o", str(out))[0] == 2
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["generate", "x.toml", "-o", "out", "--format", "yaml"], "Invalid value for '--format'"),
        (["generate", "x.toml"], "Missing option '-o'"),
        (["regions", "--partition", "aws-mars"], "--partition: 'aws-mars' is not supported"),
        (["plan"], "Missing argument 'OUT...'"),
    ],
)
def test_bad_options_are_exit_2(args: list[str], expected: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and expected in err


# -- the spec path itself ---------------------------------------------------------------------


def _symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "a.json").symlink_to(tmp_path / "b.json")
    (tmp_path / "b.json").symlink_to(tmp_path / "a.json")
    return tmp_path / "a.json"


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "spec.json").mkdir()
    return tmp_path / "spec.json"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "spec.json")  # reading it would block forever
    return tmp_path / "spec.json"


def _non_utf8_name(tmp_path: Path) -> Path:
    name = os.fsdecode(b"spec-\xff.json")
    (tmp_path / name).write_text(json.dumps(OK))
    return tmp_path / name


def _newline_name(tmp_path: Path) -> Path:
    (tmp_path / "we\nird.json").write_text(json.dumps(OK))  # would split the generated header line
    return tmp_path / "we\nird.json"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_newline_name, "we\\nird.json: the path holds the control character '\\n'; rename it"),
        (_symlink_loop, "a.json: cannot read the file: Too many levels of symbolic links"),
        (_folder, "spec.json: is a folder; give the spec file"),
        (_fifo, "spec.json: is not a regular file; give the spec file"),
        (_non_utf8_name, "spec-\\xff.json: the file name is not UTF-8; rename the file"),
        (lambda tmp: tmp / "missing.json", "missing.json: no such file"),
    ],
    ids=["newline-name", "symlink-loop", "folder", "fifo", "non-utf8-name", "missing"],
)
def test_a_bad_spec_path_is_one_line_naming_it(tmp_path: Path, make: Any, expected: str) -> None:
    path = make(tmp_path)
    before = sorted(os.listdir(tmp_path))
    out = tmp_path / "module"
    code, out_text, err = run("generate", str(path), "-o", str(out))
    assert code == 2, out_text + err
    assert err.count("\n") == 1 and err.endswith(f"{expected}\n"), err
    assert sorted(os.listdir(tmp_path)) == before


def test_hostile_specs_through_a_real_subprocess(tmp_path: Path) -> None:
    """The contract holds in a real process too: bytes on stderr are one line, nothing written."""
    cases = {
        b"tag.json": json.dumps(spec(role__tags={"Team\u2028\x85\n": "a"})).encode(),
        b"deep.yaml": b"a: " + b"[" * 100_000,
        b"dup.json": b'{"version": 1, "version": 1, "regions": ["us-east-2"]}',
        b"\xfe.toml": b"version = 1\n",
        b"laughs.yaml": str(CASES_BY_ID["yaml-billion-laughs"]).encode(),
    }
    for name, content in cases.items():
        path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + name))
        path.write_bytes(content)
        out = tmp_path / "module"
        result = subprocess.run(
            [sys.executable, "-m", "ssm_profile.cli.main", "generate", os.fsdecode(path), "-o", str(out)],
            capture_output=True, timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.count(b"\n") == 1 and result.stderr.startswith(b"ssm-profile: error: "), result.stderr
        assert b"Traceback" not in result.stderr and not out.exists()


def test_a_huge_value_is_reported_quickly() -> None:
    """Did-you-mean once took 57 s on a 200 kB Region string; now it is bounded."""
    data = spec(regions=["us-east-" + "x" * 200_000])
    started = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        spec_from_data(data)
    assert time.perf_counter() - started < 1.0
    assert "(200008 characters)" in str(caught.value) and len(str(caught.value)) < 300


def test_an_unreadable_spec_is_one_line_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where a mode of 000 does not stop reading: the OS error is injected.
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(OK))

    def refuse(*_: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("ssm_profile.spec.parse.os.open", refuse)
    code, _, err = run("generate", str(path), "-o", str(tmp_path / "module"))
    assert code == 2
    assert err == f"ssm-profile: error: {path}: cannot read the file: Permission denied\n"
    assert not (tmp_path / "module").exists()


@pytest.mark.parametrize("case", [c[0] for c in CASES if "-deep" in c[0]])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, case: str) -> None:
    _, file_name, content, _ = next(c for c in CASES if c[0] == case)
    path = tmp_path / file_name
    path.write_text(str(content), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(SpecError, match="nested more than 16 levels deep"):
        load_spec(path)
    assert time.perf_counter() - started < 1.0


def test_a_spec_error_prints_one_line() -> None:
    error = SpecError('role.tags["a\nb"]', "v\u2028" * 5000)
    assert len(str(error).splitlines()) == 1 and str(error).isprintable()
    assert len(str(error)) < 2400  # escaped and cut
