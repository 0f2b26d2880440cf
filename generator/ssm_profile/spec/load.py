"""Stage 1 of the pipeline: a spec file becomes a :class:`ValidatedSpec`.

:mod:`ssm_profile.spec.parse` reads the file into plain data; the spec's shape is declared once,
as the msgspec structs of :mod:`ssm_profile.spec.model`, which :mod:`ssm_profile.spec.shape`
checks the data against (types, lengths, full-match patterns) from their structured type
information. What a struct cannot say (Regions that exist, one partition, ARNs in that
partition, IAM's tag characters) is checked by :func:`check_spec` with the rules of
:mod:`ssm_profile.spec.rules`. Every failure becomes one :class:`~ssm_profile.errors.SpecError`
whose message starts with the field path, e.g. ``regions[2]: 'us-east-9' is not a Region`` or
``role.tags["Team"]: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from ..aws.partitions import Partition
from ..errors import SpecError
from . import rules as spec_rules
from .model import MODULE_VARIABLE_FIELDS, PATTERN_HELP, SPEC_VERSION, Spec, json_schema
from .parse import SPEC_SUFFIXES, parse_text, read_spec_text
from .shape import check_shape, field_path

__all__ = [
    "MODULE_VARIABLE_FIELDS",
    "SPEC_SUFFIXES",
    "SPEC_VERSION",
    "Spec",
    "ValidatedSpec",
    "as_validated",
    "check_spec",
    "json_schema",
    "load_spec",
    "parse_text",
    "spec_from_data",
]


class ValidatedSpec(msgspec.Struct, frozen=True):
    """A spec that passed every check, with the partition its Regions are in.

    Made by :func:`check_spec` (and so by :func:`load_spec` and :func:`spec_from_data`); what
    comes later in the pipeline takes this, never a bare :class:`Spec`, so nothing checks twice.
    """

    spec: Spec
    partition: Partition


def load_spec(path: str | Path) -> ValidatedSpec:
    """Read, parse and fully validate the spec file at ``path``."""
    text, kind = read_spec_text(Path(path))
    return spec_from_data(parse_text(text, kind, str(path), lambda parts: field_path(Spec, parts)))


def spec_from_data(data: Any) -> ValidatedSpec:
    """Validate plain data (as parsed from a spec file) into a :class:`ValidatedSpec`."""
    if not isinstance(data, dict):
        raise SpecError("spec", f"the top level must be a table of settings, got {_kind(data)}")
    check_shape(data, Spec, PATTERN_HELP)
    try:
        spec = msgspec.convert(data, Spec, strict=True)
    except msgspec.ValidationError as exc:  # check_shape knows every type the structs use
        raise SpecError("spec", str(exc)) from None
    return check_spec(spec)


def check_spec(spec: Spec) -> ValidatedSpec:
    """Check what the structs cannot express, in a fixed order; the spec with its partition."""
    partition = spec_rules.check_regions(spec)
    spec_rules.check_role(spec, partition)
    spec_rules.check_tags(spec.role.tags)
    spec_rules.check_buckets(spec, partition)
    spec_rules.check_session_manager(spec, partition)
    spec_rules.check_vpc_endpoints(spec)
    spec_rules.check_role_names_unique(spec)
    spec_rules.check_module_variables(spec)
    spec_rules.check_agent_bucket_suffixes(spec)
    return ValidatedSpec(spec, partition)


def as_validated(spec: ValidatedSpec | Spec | Mapping[str, Any] | str | Path) -> ValidatedSpec:
    """``spec`` validated, in whichever form it comes: validated already, a :class:`Spec` built in
    code, plain spec data, or the path of a spec file."""
    if isinstance(spec, ValidatedSpec):
        return spec
    if isinstance(spec, Spec):
        return check_spec(spec)
    if isinstance(spec, Mapping):
        return spec_from_data(dict(spec))
    return load_spec(spec)


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", type(None): "nothing"}.get(type(data), type(data).__name__)
