"""Proving a fleet's account roots with real Terraform, for the price of one provider start.

Each account root under LIVE is a complete root module (providers, backend, a call of the
shared module). Validating them one by one starts the ~700 MB provider once per account;
instead one throwaway root calls every account root as a child module, so a single
``init`` and ``validate`` cover the whole fleet. Terraform allows a child module to hold
provider blocks when it is called without ``count``/``for_each``, and it ignores a child's
backend block, so the account roots are validated exactly as written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import SpecError
from .harness import module_info
from .runner import TerraformRunner, default_runner

ROOT_FILES = (".tf", ".tf.json")


def validate_fleet(live_dir: str | Path, runner: TerraformRunner | None = None, only: tuple[str, ...] = ()) -> list[str]:
    """``init`` and ``validate`` every account root of the fleet in ``live_dir`` in one go
    (those named in ``only``, when given).

    Returns the account roots validated. LIVE and the shared module are copied with their
    relative layout, so each root's relative ``source`` still finds the module.
    """
    runner = runner or default_runner()
    live_dir = Path(live_dir).resolve()
    info = module_info(live_dir)
    if not info.fleet:
        raise SpecError(str(live_dir), "holds a module, not a fleet's LIVE folder (its manifest names no fleet file)")
    roots, module_dir = [a for a in info.accounts if not only or a in only], (live_dir / info.module).resolve()
    top = Path(os.path.commonpath([live_dir, module_dir]))
    with tempfile.TemporaryDirectory(prefix="ssm-profile-fleet-") as tmp:
        scratch = Path(tmp) / "tree"
        for folder in (live_dir, module_dir):
            _copy_config(folder, scratch / folder.relative_to(top))
        # Call names: an account name may start with a digit, which a module name may not.
        calls = {f"root_{name}": {"source": "./" + (live_dir / name).relative_to(top).as_posix()} for name in roots}
        root = {"//": "Throwaway root written by ssm-profile to validate every account root of a fleet.", "module": calls}
        (scratch / "main.tf.json").write_text(json.dumps(root, indent=2) + "\n", encoding="utf-8")
        runner.init(scratch)
        runner.validate(scratch)
    return roots


def _copy_config(source: Path, target: Path) -> None:
    """Copy the Terraform files of ``source`` (and its subfolders) to ``target``; nothing else."""
    shutil.copytree(
        source,
        target,
        dirs_exist_ok=True,
        ignore=lambda folder, names: [
            n for n in names if n.startswith(".terraform") or (Path(folder, n).is_file() and not n.endswith(ROOT_FILES))
        ],
    )
