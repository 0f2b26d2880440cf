"""A user's variable file for ``plan --var-file``: JSON or HCL ``.tfvars``, checked before Terraform runs.

ssm-profile reads only the *names* a file sets, to report a misspelled input before any
Terraform step; the values are parsed by Terraform itself, which loads the file as the
throwaway root's own ``*.auto.tfvars`` (so HCL heredocs, escapes and numbers mean exactly what
they mean in the user's root module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError
from ..intake import MODULE_FILE, VAR_FILE, bracket_depth, load_json, read_text

_HCL_VARIABLE = re.compile(r'^variable[ \t]+"([^"]+)"[ \t]*\{', re.MULTILINE)


@dataclass(frozen=True)
class VarFile:
    """A variable file: where it is, its format, and the input names it sets."""

    path: Path
    format: str  # "json" or "hcl"
    names: tuple[str, ...]

    @property
    def root_name(self) -> str:
        """The file's name inside the throwaway root, where Terraform loads it automatically."""
        return "ssm-profile.auto.tfvars.json" if self.format == "json" else "ssm-profile.auto.tfvars"


def module_inputs(module_dir: Path) -> tuple[str, ...]:
    """The input variables the module in ``module_dir`` declares (HCL or Terraform JSON)."""
    names: set[str] = set()
    for path in sorted(Path(module_dir).glob("*.tf")):
        names.update(_HCL_VARIABLE.findall(read_text(path, MODULE_FILE) or ""))
    for path in sorted(Path(module_dir).glob("*.tf.json")):
        document = load_json(read_text(path, MODULE_FILE) or "", MODULE_FILE, str(path))
        names.update((document.get("variable") or {}).keys() if isinstance(document, dict) else ())
    return tuple(sorted(names))


def read_var_file(path: Path, module_dir: Path) -> VarFile:
    """Read the names ``path`` sets and check each is an input of the module in ``module_dir``.

    ``.json`` files are Terraform's JSON variable files; anything else is HCL ``.tfvars``. The
    file is read through the bounded reader (:data:`ssm_profile.intake.VAR_FILE`: a regular
    file, size and nesting bounded, UTF-8).
    """
    path = Path(path)
    text = read_text(path, VAR_FILE) or ""
    if path.name.endswith(".json"):
        data = load_json(text, VAR_FILE, str(path))
        if not isinstance(data, dict):
            raise SpecError(str(path), "must hold a JSON object of module inputs")
        var_file = VarFile(path, "json", tuple(data))
    else:
        var_file = VarFile(path, "hcl", _hcl_names(path, text))
    _check_names(var_file, module_inputs(module_dir))
    return var_file


#: What is not code in HCL, for counting its brackets: strings, comments and heredocs
#: (https://developer.hashicorp.com/terraform/language/syntax/configuration).
_HCL_NOT_CODE = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z)|<<-?([A-Za-z_][A-Za-z0-9_-]*)\n.*?(?:^[ \t]*\1[ \t]*$|\Z)',
    re.S | re.M,
)
#: Keys python-hcl2 adds for comments and blocks; they are not assignments.
_HCL2_KEYS = ("__comments__", "__inline_comments__", "__is_block__")


def _hcl_names(path: Path, text: str) -> tuple[str, ...]:
    # python-hcl2 parses the file only to list its top-level names; Terraform parses the values.
    # Its parser recurses per level (and spends seconds on a deep file): the depth is bounded first.
    if bracket_depth(_HCL_NOT_CODE.sub("", text), b"[{(", b"]})") > VAR_FILE.max_depth:
        raise SpecError(str(path), VAR_FILE.too_deep)
    import hcl2
    from lark.exceptions import LarkError

    try:
        data = hcl2.loads(text)
    except RecursionError:
        raise SpecError(str(path), VAR_FILE.too_deep) from None
    except (LarkError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpecError(str(path), f"not valid HCL variable definitions (.tfvars) nor JSON: {first}") from None
    # Only python-hcl2's own keys are left out: "__x" is a valid variable name of Terraform's.
    return tuple(name for name in data if name not in _HCL2_KEYS)


def _check_names(var_file: VarFile, allowed: tuple[str, ...]) -> None:
    from ..aws.partitions import suggest

    for name in var_file.names:
        if name not in allowed:
            raise SpecError(
                f"{var_file.path}: {name}",
                f"not an input of the module{suggest(name, allowed)}; allowed: {', '.join(allowed) or 'none'}",
            )
