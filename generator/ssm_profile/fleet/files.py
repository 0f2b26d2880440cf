"""The edges of the fleet pipeline: reading a fleet file, and writing (or checking) LIVE.

``generate_fleet`` is what ``ssm-profile fleet`` calls: it generates the shared module from
the fleet's spec, checks the accounts against that module and lays out LIVE (pure:
:func:`ssm_profile.fleet.engines.fleet_files`); :func:`write_fleet` writes both through the module
writer, with its guarantees (hand-edit guard, files of the user kept, byte-identical output),
then the repository's ``atlantis.yaml``; :func:`require_fleet_current` is ``fleet --check``'s
drift gate. :func:`fleet_root` and :func:`live_roots` are what ``validate`` and ``plan`` take
of a fleet.

The repository is the nearest folder at or above the fleet file holding ``.git`` (a folder, or
the file of a git worktree), else the fleet file's own folder. The other fleets in it are found
through their LIVE manifests: no account of theirs may share a state with this fleet's, and
their Atlantis projects stay in the one ``atlantis.yaml``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

from .._version import __version__
from ..errors import CheckFailed, OutputError, SpecError
from ..intake import FLEET_FILE
from ..intake.reader import ATLANTIS_CONFIG, read_text
from ..output import transaction
from ..output.manifest import MANIFEST_FILE, Manifest, manifests_under, read_manifest
from ..output.transaction import Notify
from ..output.writer import check_writable, require_module_current, write_module
from ..pipeline import GeneratedModule, generate, header_line
from ..spec.parse import parse_text, read_spec_text
from ..spec.shape import field_path
from .atlantis_file import ATLANTIS_FILE, atlantis_text
from .build import SharedModule, check_accounts, state_locations, workspace_names
from .engines import atlantis_projects, fleet_files
from .schema import Fleet, fleet_from_data


@dataclass(frozen=True)
class FleetOutput:
    """A generated fleet: the shared module and LIVE, each ready for the writer."""

    fleet: Fleet
    module: GeneratedModule
    module_dir: Path
    live: GeneratedModule
    live_dir: Path
    #: The repository's atlantis.yaml and its text with every fleet's projects (None: no file).
    atlantis_path: Path | None = None
    atlantis: str | None = None


def load_fleet(path: str | Path) -> Fleet:
    """Read, parse and validate the fleet file at ``path`` (TOML, YAML or JSON), with the spec
    reader's defences (duplicate keys, YAML tags, nesting depth, encodings) and the fleet file's
    own limits (:data:`ssm_profile.intake.FLEET_FILE`: 5,000 accounts fit many times over)."""
    text, kind = read_spec_text(Path(path), FLEET_FILE)
    data = parse_text(text, kind, str(path), lambda parts: field_path(Fleet, parts), limits=FLEET_FILE)
    return fleet_from_data(data, str(path))


def generate_fleet(fleet_path: str | Path, live_dir: str | Path) -> FleetOutput:
    """Generate the shared module and every file of LIVE for the fleet file at ``fleet_path``."""
    fleet_path, live_dir = Path(fleet_path), Path(live_dir)
    fleet = load_fleet(fleet_path)
    base = fleet_path.parent
    # Normalised: printed and recorded as the user would type it, never infra/fleets/../modules/x.
    spec_path, module_dir = Path(os.path.normpath(base / fleet.spec)), Path(os.path.normpath(_module_folder(fleet_path, fleet.module)))
    if not spec_path.is_file():
        raise SpecError("spec", f"{fleet.spec!r} is not a file (relative to {fleet_path})")
    # Generated exactly as `generate SPEC -o MODULE` would, so `drift` finds it up to date.
    module = generate(spec_path, module_dir=module_dir)
    manifest = module.manifest
    variables = tuple(b.labels[0] for b in module.document.of_kind("variable"))
    check_accounts(fleet, manifest.partition, variables, tuple(manifest.required_inputs), tuple(manifest.regions))
    repository = _repository_of(fleet_path, live_dir)
    shared = SharedModule(
        partition=manifest.partition,
        regions=tuple(manifest.regions),
        provider_aliases=tuple(manifest.provider_aliases.items()),
        variables=variables,
        required_inputs=tuple(manifest.required_inputs),
        module_from_live=_relative(module_dir, live_dir),
        live_from_repo=_relative(live_dir, repository),
        spec_from_live=_relative(spec_path, live_dir),
        fleet_from_live=_relative(fleet_path, live_dir),
        fleet_name=fleet_name(fleet_path),
    )
    if "hcp-terraform" in fleet.engines:
        workspace_names(fleet, shared.fleet_name)  # each valid and unique before anything is laid out
    others = _other_fleets(repository, live_dir)
    _check_states_apart(fleet, shared.fleet_name, fleet_path, others)
    files = fleet_files(fleet, shared, header_line(shared.fleet_from_live), grants=module.grants)
    files[MANIFEST_FILE] = _live_manifest(files, shared, [a.name for a in fleet.accounts])
    live = GeneratedModule(files=dict(sorted(files.items())), grants=module.grants, document=module.document, format="hcl")
    _refuse_overlap(fleet, module_dir, module.files, live_dir, files)
    atlantis_path = repository / ATLANTIS_FILE
    by_fleet = [(shared.live_from_repo, atlantis_projects(
        fleet.atlantis, tuple(a.name for a in fleet.accounts), shared.live_from_repo, shared.module_from_live, shared.spec_from_live, shared.fleet_from_live
    ))] if "atlantis" in fleet.engines else []
    by_fleet += [(layout[1], atlantis_projects(other.fleet.atlantis, *layout)) for other in others if "atlantis" in other.fleet.engines for layout in [other.layout(repository)]]
    projects = [project for _, fleet_projects in sorted(by_fleet, key=lambda pair: pair[0]) for project in fleet_projects]  # fleets by LIVE folder
    atlantis = atlantis_text(_read_text(atlantis_path), projects, f"Written by ssm-profile {__version__}: the projects of every fleet in this repository.")
    return FleetOutput(fleet=fleet, module=module, module_dir=module_dir, live=live, live_dir=live_dir, atlantis_path=atlantis_path, atlantis=atlantis)


def write_fleet(output: FleetOutput, *, force: bool = False, notify: Notify | None = None) -> None:
    """Write the shared module, then LIVE (see :func:`ssm_profile.output.writer.write_module`).

    Both folders are checked before either is written: a LIVE that cannot be written (a folder
    of another kind, a file of the user's at a generated name, a dangling link) stops the run
    with the shared module untouched.
    """
    check_writable(output.module, output.module_dir, force=force)
    check_writable(output.live, output.live_dir, force=force)
    write_module(output.module, output.module_dir, force=force, notify=notify)
    write_module(output.live, output.live_dir, force=force, notify=notify)
    if output.atlantis is not None and output.atlantis_path is not None and _read_text(output.atlantis_path) != output.atlantis:
        _replace_file(output.atlantis_path, output.atlantis, notify or (lambda message: None))


def require_fleet_current(output: FleetOutput) -> None:
    """Raise :class:`~ssm_profile.errors.CheckFailed` when the shared module or LIVE on disk
    differs from ``output`` (the shared module is compared first); write nothing."""
    require_module_current(output.module, output.module_dir)
    require_module_current(output.live, output.live_dir)
    if output.atlantis is not None and output.atlantis_path is not None and _read_text(output.atlantis_path) != output.atlantis:
        raise CheckFailed(f"{output.atlantis_path} is out of date with the fleets of its repository: the ssm-profile projects differ")


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


def _refuse_overlap(fleet: Fleet, module_dir: Path, module_files: dict[str, str], live_dir: Path, live_files: dict[str, str]) -> None:
    """:class:`SpecError` when the shared module's folder is LIVE, lies in an account root, or
    shares a file with LIVE: one write would replace the other's files."""
    module_at, live_at = Path(os.path.realpath(module_dir)), Path(os.path.realpath(live_dir))
    roots = {live_at / account.name: account.name for account in fleet.accounts}
    if module_at == live_at:
        raise SpecError("module", f"{fleet.module!r} is LIVE ({live_dir}) itself; the shared module needs a folder of its own")
    for root, name in roots.items():
        if module_at == root or module_at.is_relative_to(root):
            raise SpecError("module", f"{fleet.module!r} is inside the root of account {name!r} ({live_dir / name}); choose a folder outside LIVE's account roots")
    module_paths = {module_at / name for name in module_files}
    live_paths = {live_at / name for name in live_files}
    shared = sorted(module_paths & live_paths) or sorted(p for p in live_paths if any(m in p.parents for m in module_paths))
    if shared:
        raise SpecError("module", f"{fleet.module!r} and LIVE ({live_dir}) would both write {shared[0]}; choose folders that do not overlap")


def _repository_root(fleet_path: Path) -> Path:
    """The repository holding the fleet file: the nearest folder at or above it with ``.git``
    (else the fleet file's folder)."""
    start = Path(os.path.abspath(fleet_path.parent))
    return next((folder for folder in (start, *start.parents) if (folder / ".git").exists()), start)


MODULE_PATHS = "a relative path to a folder inside the fleet file's repository, such as modules/ssm-profile"


def _module_folder(fleet_path: Path, module: str) -> Path:
    """The shared module's folder: ``module`` relative to the fleet file, confined to its repository.

    The fleet file is data anyone with write access to the repository can change; the module is
    written (and its stale files removed) wherever it points, so it never points outside: not
    absolute, and not outside the repository once ``..`` and links are followed.
    """
    root = _repository_root(fleet_path)
    if PurePath(module).is_absolute() or PureWindowsPath(module).is_absolute() or "\\" in module:
        raise SpecError("module", f"{module!r} is not a relative path; allowed: {MODULE_PATHS}")
    folder = fleet_path.parent / module
    real, real_root = Path(os.path.realpath(folder)), Path(os.path.realpath(root))
    if real == real_root or not real.is_relative_to(real_root):
        raise SpecError("module", f"{module!r} is not inside {root}, the fleet file's repository; allowed: {MODULE_PATHS}")
    return folder


def _repository_of(fleet_path: Path, live_dir: Path) -> Path:
    """The repository holding the fleet file (:func:`_repository_root`). Engines name roots
    relative to it, so LIVE must be inside."""
    root = _repository_root(fleet_path)
    if not Path(os.path.abspath(live_dir)).is_relative_to(root):
        raise SpecError("-o", f"{live_dir} is outside {root}, the repository of the fleet file; Atlantis, CI matrices and HCP Terraform name each root's folder relative to the repository, so LIVE must be inside it")
    return root


def _relative(target: Path, start: Path) -> str:
    """``target`` relative to the folder ``start``, POSIX; stable whatever the working folder is."""
    return Path(os.path.relpath(os.path.abspath(target), os.path.abspath(start))).as_posix()


def fleet_name(fleet_path: Path) -> str:
    """``{fleet}`` in name templates: the fleet file's name without its suffix."""
    return fleet_path.name.rsplit(".", 1)[0] if "." in fleet_path.name[1:] else fleet_path.name


@dataclass(frozen=True)
class _OtherFleet:
    """Another fleet of the repository, found through its LIVE folder's manifest."""

    live_dir: Path
    manifest: Manifest
    fleet: Fleet
    name: str

    def layout(self, repository: Path) -> tuple[tuple[str, ...], str, str, str, str]:
        """Accounts and paths as :func:`~ssm_profile.fleet.engines.atlantis_projects` takes them."""
        return (tuple(self.manifest.accounts), _relative(self.live_dir, repository), self.manifest.module or "", self.manifest.spec, self.manifest.fleet or "")


def _other_fleets(repository: Path, live_dir: Path) -> list[_OtherFleet]:
    """Every other fleet whose LIVE folder is in ``repository``, with its fleet file read."""
    here = Path(os.path.abspath(live_dir))
    found = []
    for folder in manifests_under(repository):
        if Path(os.path.abspath(folder)) == here:
            continue
        manifest = read_manifest(folder)
        if manifest is None or manifest.fleet is None:
            continue
        fleet_path = folder / manifest.fleet
        try:
            other = load_fleet(fleet_path)
        except SpecError as error:
            raise SpecError(str(fleet_path), f"(the fleet of {folder}, another fleet of this repository) {error}") from None
        found.append(_OtherFleet(folder, manifest, other, fleet_name(fleet_path)))
    return found


def _check_states_apart(fleet: Fleet, name: str, fleet_path: Path, others: list[_OtherFleet]) -> None:
    """No two accounts of the repository's fleets keep their state in one place.

    A LIVE folder written from this same fleet file is this fleet written elsewhere before (a
    moved LIVE, or the wrong -o), not a second fleet: its accounts are these accounts, and
    ``drift`` reports the old folder; the folder checks of the write say what is wrong with -o.
    """
    ours = {location.lower(): account for account, location in state_locations(fleet, name).items()}
    field = "backend.key" if fleet.backend.type == "s3" else "backend.workspace_name"
    here = os.path.realpath(fleet_path)
    for other in others:
        if other.manifest.fleet is not None and os.path.realpath(other.live_dir / other.manifest.fleet) == here:
            continue
        for account, location in state_locations(other.fleet, other.name).items():
            if location.lower() in ours:
                raise SpecError(field, f"account {ours[location.lower()]!r} would keep its state at {location}, as account {account!r} of the fleet in {other.live_dir} does")


def _read_text(path: Path) -> str | None:
    """A file of the team's (atlantis.yaml) through the bounded reader; None when missing."""
    if not os.path.lexists(path):
        return None
    if path.is_symlink():  # replacing it would replace the link, not the file it names
        raise SpecError(str(path), "is a symbolic link; ssm-profile writes the repository's atlantis.yaml only as a plain file")
    return read_text(path, ATLANTIS_CONFIG)


def _replace_file(path: Path, text: str, say: Notify) -> None:
    """Replace ``path`` atomically (temporary file beside it, fsync, rename) under the folder's lock."""
    folder = path.parent
    with transaction.exclusive_lock(folder, transaction.LOCK_WAIT_SECONDS, say):
        temporary = folder / transaction.write_temporary(folder, path.name, text.encode())
        try:
            with transaction.signals_deferred():
                os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class FleetRoot:
    """One account root of a fleet's LIVE folder, as ``validate`` and ``plan`` take it."""

    root: Path
    live_dir: Path
    account: str
    module_dir: Path
    #: What the root passes the shared module (account_id and the account's inputs).
    inputs: dict[str, object]


def fleet_root(folder: str | Path) -> FleetRoot | None:
    """The account root at ``folder`` (a folder of a LIVE whose manifest lists it), else None."""
    folder = Path(folder)
    live = Path(os.path.abspath(folder)).parent
    if (folder / MANIFEST_FILE).exists() or not (live / MANIFEST_FILE).is_file():
        return None
    manifest = read_manifest(live)
    if manifest is None or manifest.fleet is None or folder.resolve().name not in manifest.accounts:
        return None
    return _roots(live, manifest, {folder.resolve().name: folder})[0]


def live_roots(live: str | Path) -> list[FleetRoot]:
    """Every account root of the fleet whose LIVE folder is ``live``; empty when it is none."""
    live = Path(live)
    manifest = read_manifest(live) if (live / MANIFEST_FILE).is_file() else None
    if manifest is None or manifest.fleet is None:
        return []
    return _roots(Path(os.path.abspath(live)), manifest, {name: live / name for name in manifest.accounts})


def _roots(live: Path, manifest: Manifest, folders: dict[str, Path]) -> list[FleetRoot]:
    """The roots named in ``folders`` (account name: folder as given), from one regeneration."""
    from ..tfmodule.build import ACCOUNT_ID_VARIABLE

    output = generate_fleet((live / (manifest.fleet or "")).resolve(), live)
    accounts = {a.name: a for a in output.fleet.accounts}
    variables = {b.labels[0] for b in output.module.document.of_kind("variable")}
    roots = []
    for name, folder in folders.items():
        account = accounts.get(name)
        if account is None:
            raise SpecError(str(folder), f"is an account root of {live}, but its fleet file no longer lists it; run ssm-profile fleet")
        inputs: dict[str, object] = dict(account.inputs)
        if ACCOUNT_ID_VARIABLE in variables:  # as the root's own module call passes it
            inputs[ACCOUNT_ID_VARIABLE] = account.id
        roots.append(FleetRoot(root=folder, live_dir=live, account=name, module_dir=output.module_dir, inputs=inputs))
    return roots
