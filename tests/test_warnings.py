"""pyproject.toml's ``filterwarnings``: a warning this package triggers fails the test it happens
in; a warning a dependency raises about itself is shown, not fatal (issue 28)."""

from __future__ import annotations

import warnings

import pytest


def _warn_from(module: str) -> None:
    # warn_explicit attributes the warning to ``module``, as warnings.warn does for its caller.
    warnings.warn_explicit("old API", DeprecationWarning, filename=f"{module}.py", lineno=1, module=module)


@pytest.mark.parametrize("module", ["ssm_profile", "ssm_profile.spec.load", "test_cli", "conftest"])
def test_a_warning_from_our_code_is_an_error(module: str) -> None:
    with pytest.raises(DeprecationWarning, match="old API"):
        _warn_from(module)


@pytest.mark.parametrize("module", ["click.core", "jinja2.environment", "botocore.session"])
def test_a_dependency_warning_about_itself_is_shown_not_raised(module: str) -> None:
    with warnings.catch_warnings(record=True) as caught:  # keeps the suite's filters, records what they let through
        _warn_from(module)
    assert [str(w.message) for w in caught] == ["old API"]
