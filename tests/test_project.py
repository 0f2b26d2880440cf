"""The project's own conventions (issue 28): pyproject.toml's ``filterwarnings`` (a warning this
package triggers fails the test it happens in; a warning a dependency raises about itself is
shown, not fatal), and the tests' one path to the package folder."""

from __future__ import annotations

import re
import warnings

import pytest

from conftest import GENERATOR, ROOT


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


def test_only_conftest_names_the_generator_folder() -> None:
    # The product's layout names generator/; tests reach it through conftest.GENERATOR alone.
    building = re.compile(r"""/ ["']generator["']|["']generator/ssm_profile""")
    offenders = [p.name for p in sorted((ROOT / "tests").rglob("*.py")) if p.name != "conftest.py" and building.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert (GENERATOR / "ssm_profile" / "__init__.py").is_file()
