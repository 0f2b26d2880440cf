"""The HCL renderer's Jinja template (``templates/module.tf.j2``), loaded precompiled when it can be.

Compiling the template (lexer regexes, parse, Python generation, ``compile``) costs ~5 ms of
every HCL ``generate``. Jinja's own :class:`jinja2.ModuleLoader` loads the same template
compiled ahead of time to a Python module, whose bytecode pip writes at install: ~0.3 ms.
The compiled module lives in ``templates/jinja2-<major>.<minor>/``, named by the Jinja release
line that generated it (its code calls that line's runtime); with any other Jinja installed,
the template is compiled from its source as before. ``make templates`` regenerates it, and a
test checks it is exactly what the installed Jinja compiles from the template today.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jinja2 is imported only when HCL is rendered
    import jinja2

TEMPLATE = "module.tf.j2"
TEMPLATES = Path(__file__).with_name("templates")
#: StrictUndefined, no autoescaping, the final newline kept (docs/architecture.md: templates only lay out text).
_OPTIONS: dict[str, Any] = {"autoescape": False, "keep_trailing_newline": True}


def compiled_folder(jinja_version: str) -> Path:
    """Where the template compiled by Jinja ``jinja_version`` (``3.1.6``) lives."""
    major, minor = jinja_version.split(".")[:2]
    return TEMPLATES / f"jinja2-{major}.{minor}"


def load_template() -> jinja2.Template:
    """The ``jinja2.Template`` of :data:`TEMPLATE`: precompiled for the installed Jinja, else from source."""
    import jinja2

    folder = compiled_folder(jinja2.__version__)
    loader: jinja2.BaseLoader
    if (folder / compiled_name()).is_file():
        loader = jinja2.ModuleLoader(folder)
    else:
        loader = jinja2.PackageLoader("ssm_profile.render", "templates")
    environment = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined, **_OPTIONS)
    return environment.get_template(TEMPLATE)


def compiled_name() -> str:
    """The compiled module's file name, as :class:`jinja2.ModuleLoader` looks it up."""
    import jinja2

    return jinja2.ModuleLoader.get_module_filename(TEMPLATE)


def compiled_source() -> str:
    """The template compiled to Python by the installed Jinja: the compiled module's text."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ssm_profile.render", "templates"), undefined=jinja2.StrictUndefined, **_OPTIONS
    )
    source, filename, _ = environment.loader.get_source(environment, TEMPLATE)  # type: ignore[union-attr]
    return environment.compile(source, TEMPLATE, filename, raw=True, defer_init=True)


def write_compiled(folder: Path) -> Path:
    """Write the compiled module into ``folder`` (as ``compile_templates`` would); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / compiled_name()
    path.write_bytes(compiled_source().encode("utf-8"))
    return path


if __name__ == "__main__":  # make templates
    import jinja2

    print(write_compiled(compiled_folder(jinja2.__version__)))
