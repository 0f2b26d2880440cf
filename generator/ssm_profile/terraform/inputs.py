"""A user's variable file for ``plan --var-file``: JSON or HCL ``.tfvars``, checked before Terraform runs.

ssm-profile reads only the *names* a file sets, to report a misspelled input before any
Terraform step; the values are parsed by Terraform itself, which loads the file as the
throwaway root's own ``*.auto.tfvars`` (so HCL heredocs, escapes and numbers mean exactly what
they mean in the user's root module).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError

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
        names.update(_HCL_VARIABLE.findall(path.read_text(encoding="utf-8")))
    for path in sorted(Path(module_dir).glob("*.tf.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        names.update((document.get("variable") or {}).keys())
    return tuple(sorted(names))


def read_var_file(path: Path, module_dir: Path) -> VarFile:
    """Read the names ``path`` sets and check each is an input of the module in ``module_dir``.

    ``.json`` files are Terraform's JSON variable files; anything else is HCL ``.tfvars``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(str(path), f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(str(path), "not UTF-8 text; a variable file is HCL .tfvars or JSON") from None
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise SpecError(str(path), f"not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise SpecError(str(path), "must hold a JSON object of module inputs")
        var_file = VarFile(path, "json", tuple(data))
    else:
        var_file = VarFile(path, "hcl", _hcl_names(path, text))
    _check_names(var_file, module_inputs(module_dir))
    return var_file


def _hcl_names(path: Path, text: str) -> tuple[str, ...]:
    # python-hcl2 parses the file only to list its top-level names; Terraform parses the values.
    import hcl2
    from lark.exceptions import LarkError

    try:
        data = hcl2.loads(text)
    except (LarkError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpecError(str(path), f"not valid HCL variable definitions (.tfvars) nor JSON: {first}") from None
    # python-hcl2 adds __comments__-style keys for comments; they are not assignments.
    return tuple(name for name in data if not name.startswith("__"))


def _check_names(var_file: VarFile, allowed: tuple[str, ...]) -> None:
    from ..aws.partitions import suggest

    for name in var_file.names:
        if name not in allowed:
            raise SpecError(
                f"{var_file.path}: {name}",
                f"not an input of the module{suggest(name, allowed)}; allowed: {', '.join(allowed) or 'none'}",
            )
