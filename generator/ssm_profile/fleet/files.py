"""The edges of the fleet pipeline: reading a fleet file, and writing (or checking) LIVE.

``generate_fleet`` is what ``ssm-profile fleet`` calls: it generates the shared module from
the fleet's spec, checks the accounts against that module and lays out LIVE (pure:
:func:`ssm_profile.fleet.build.fleet_files`); :func:`write_fleet` writes both through the module
writer, with its guarantees (hand-edit guard, files of the user kept, byte-identical output),
and :func:`require_fleet_current` is ``fleet --check``'s drift gate.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..errors import SpecError
from ..output.manifest import MANIFEST_FILE, Manifest
from ..output.transaction import Notify
from ..output.writer import require_module_current, write_module
from ..pipeline import GeneratedModule, generate, header_line
from ..spec.parse import parse_text, read_spec_text
from ..spec.shape import field_path
from .build import Fleet, SharedModule, check_accounts, fleet_files, fleet_from_data


@dataclass(frozen=True)
class FleetOutput:
    """A generated fleet: the shared module and LIVE, each ready for the writer."""

    fleet: Fleet
    module: GeneratedModule
    module_dir: Path
    live: GeneratedModule
    live_dir: Path


def load_fleet(path: str | Path) -> Fleet:
    """Read, parse and validate the fleet file at ``path`` (TOML, YAML or JSON), with the spec
    reader's defences (duplicate keys, YAML tags, nesting depth, encodings)."""
    text, kind = read_spec_text(Path(path))
    return fleet_from_data(parse_text(text, kind, str(path), lambda parts: field_path(Fleet, parts)), str(path))


def generate_fleet(fleet_path: str | Path, live_dir: str | Path) -> FleetOutput:
    """Generate the shared module and every file of LIVE for the fleet file at ``fleet_path``."""
    fleet_path, live_dir = Path(fleet_path), Path(live_dir)
    fleet = load_fleet(fleet_path)
    base = fleet_path.parent
    # Normalised: printed and recorded as the user would type it, never infra/fleets/../modules/x.
    spec_path, module_dir = Path(os.path.normpath(base / fleet.spec)), Path(os.path.normpath(base / fleet.module))
    if not spec_path.is_file():
        raise SpecError("spec", f"{fleet.spec!r} is not a file (relative to {fleet_path})")
    # Generated exactly as `generate SPEC -o MODULE` would, so `drift` finds it up to date.
    module = generate(spec_path, module_dir=module_dir)
    manifest = module.manifest
    variables = tuple(b.labels[0] for b in module.document.of_kind("variable"))
    check_accounts(fleet, manifest.partition, variables, tuple(manifest.required_inputs))
    shared = SharedModule(
        partition=manifest.partition,
        regions=tuple(manifest.regions),
        provider_aliases=tuple(manifest.provider_aliases.items()),
        variables=variables,
        required_inputs=tuple(manifest.required_inputs),
        module_from_live=_relative(module_dir, live_dir),
        live_from_repo=_relative(live_dir, _repository_of(fleet_path, live_dir)),
        spec_from_live=_relative(spec_path, live_dir),
        fleet_from_live=_relative(fleet_path, live_dir),
    )
    files = fleet_files(fleet, shared, header_line(shared.fleet_from_live))
    files[MANIFEST_FILE] = _live_manifest(files, shared, [a.name for a in fleet.accounts])
    live = GeneratedModule(files=dict(sorted(files.items())), grants=module.grants, document=module.document, format="hcl")
    return FleetOutput(fleet=fleet, module=module, module_dir=module_dir, live=live, live_dir=live_dir)


def write_fleet(output: FleetOutput, *, force: bool = False, notify: Notify | None = None) -> None:
    """Write the shared module, then LIVE (see :func:`ssm_profile.output.writer.write_module`)."""
    write_module(output.module, output.module_dir, force=force, notify=notify)
    write_module(output.live, output.live_dir, force=force, notify=notify)


def require_fleet_current(output: FleetOutput) -> None:
    """Raise :class:`~ssm_profile.errors.CheckFailed` when the shared module or LIVE on disk
    differs from ``output`` (the shared module is compared first); write nothing."""
    require_module_current(output.module, output.module_dir)
    require_module_current(output.live, output.live_dir)


def _live_manifest(files: dict[str, str], shared: SharedModule, accounts: list[str]) -> str:
    """LIVE's manifest: the module manifest's shape, plus the fleet file ``drift`` regenerates
    it from, the shared module's folder and the account roots (relative to LIVE)."""
    return Manifest(
        version=__version__,
        spec=shared.spec_from_live,
        format="hcl",
        partition=shared.partition,
        regions=list(shared.regions),
        files={name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(files.items())},
        fleet=shared.fleet_from_live,
        module=shared.module_from_live,
        accounts=accounts,
    ).to_json()


def _repository_of(fleet_path: Path, live_dir: Path) -> Path:
    """The repository holding the fleet file: the nearest folder at or above it with ``.git``
    (else the fleet file's folder). Engines name roots relative to it, so LIVE must be inside."""
    start = Path(os.path.abspath(fleet_path.parent))
    root = next((folder for folder in (start, *start.parents) if (folder / ".git").exists()), start)
    if not Path(os.path.abspath(live_dir)).is_relative_to(root):
        raise SpecError("-o", f"{live_dir} is outside {root}, the repository of the fleet file; Atlantis, CI matrices and HCP Terraform name each root's folder relative to the repository, so LIVE must be inside it")
    return root


def _relative(target: Path, start: Path) -> str:
    """``target`` relative to the folder ``start``, POSIX; stable whatever the working folder is."""
    return Path(os.path.relpath(os.path.abspath(target), os.path.abspath(start))).as_posix()
