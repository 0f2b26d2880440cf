"""The HCL template compiled ahead of time (render/hcl_template.py) is the template itself."""

from __future__ import annotations

import jinja2

from ssm_profile.render import hcl_template
from ssm_profile.render.hcl import _template


def test_the_compiled_template_is_what_jinja_compiles_from_the_source_today() -> None:
    path = hcl_template.compiled_folder(jinja2.__version__) / hcl_template.compiled_name()
    assert path.is_file(), f"no precompiled HCL template for Jinja {jinja2.__version__}: run make templates"
    assert path.read_text(encoding="utf-8") == hcl_template.compiled_source(), (
        f"{path} is stale (module.tf.j2 or Jinja changed): run make templates"
    )


def test_the_renderer_loads_the_compiled_template() -> None:
    # The module loader's templates are named after the compiled file, not the source.
    assert _template().filename.endswith(hcl_template.compiled_name())


def test_without_a_compiled_template_the_source_is_compiled(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(hcl_template, "TEMPLATES", tmp_path)
    from_source = hcl_template.load_template()
    assert from_source.filename.endswith(hcl_template.TEMPLATE)
    lines = {"header": "h", "blocks": []}
    assert from_source.render(**lines) == _template().render(**lines)
