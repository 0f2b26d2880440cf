"""Where Terraform installs hashicorp/aws from: the user's own configuration, or our mirror.

By default ssm-profile runs Terraform exactly as the user configured it: ``TF_CLI_CONFIG_FILE``
or ``~/.terraformrc``, with whatever registry, network mirror or plugin cache it names (the
"CLI Configuration File" page of Terraform's docs,
https://developer.hashicorp.com/terraform/cli/config/config-file). Only when that configuration
cannot install the provider (no network, no mirror) does it fall back to a local filesystem mirror
it finds itself (:func:`~ssm_profile.terraform.locate.find_provider_mirror`), through a CLI
config it writes under its own cache folder. ssm-profile never writes into the user's Terraform
configuration or plugin cache.

The choice, from ``--providers`` or ``$SSM_PROFILE_PROVIDERS``:

- ``auto`` (default): the user's configuration, then the local mirror when it cannot install
  the provider (an offline ``terraform init`` fails in well under a second);
- ``terraform``: the user's configuration only; the mirror search is never used;
- ``mirror``: the local mirror only (offline; the user's configuration is not read).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import SpecError, TerraformError

PROVIDERS_VARIABLE = "SSM_PROFILE_PROVIDERS"
PROVIDER_SOURCES = ("auto", "terraform", "mirror")

#: Summaries of ``terraform init`` errors that mean "could not get the provider", after which
#: the local mirror is worth a try. A syntax error in the module is not one of them.
_INSTALL_FAILURES = re.compile(
    r"Error: (Failed to (query|install|resolve|download) .*provider|Incompatible provider version|"
    r"Could not retrieve .*provider|Invalid provider registry host|Provider registry .*unreachable|"
    r"Failed to install provider|Required plugins are not installed)",
    re.IGNORECASE,
)

# The reason the user's configuration failed, per configuration, for this process: later runs
# go straight to the mirror instead of failing the same way again.
_FALLBACKS: dict[str, str] = {}
_LOCK = threading.Lock()


def provider_choice(explicit: str | None = None) -> str:
    """The provider source asked for: ``explicit`` (``--providers``), else ``$SSM_PROFILE_PROVIDERS``, else auto."""
    if explicit:
        where, value = "--providers", explicit
    else:
        where, value = f"${PROVIDERS_VARIABLE}", os.environ.get(PROVIDERS_VARIABLE, "") or "auto"
    value = value.strip().lower()
    if value not in PROVIDER_SOURCES:
        raise SpecError(where, f"{value!r} is not a provider source; allowed: {', '.join(PROVIDER_SOURCES)}")
    return value


def user_configuration() -> str:
    """The user's Terraform CLI configuration, described for a message."""
    explicit = os.environ.get("TF_CLI_CONFIG_FILE")
    if explicit:
        suffix = "" if Path(explicit).is_file() else ", which does not exist: Terraform's defaults"
        return f"TF_CLI_CONFIG_FILE={explicit}{suffix}"
    rc = Path.home() / ".terraformrc"
    if rc.is_file():
        return str(rc)
    return "no CLI config file: Terraform's defaults, registry.terraform.io"


def install_failure(error: TerraformError) -> str:
    """The init error's summary and the first paragraph of its detail, as one line."""
    lines = [line.strip().strip("│╷╵").strip() for line in (error.output or "").splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            detail: list[str] = []
            for following in lines[index + 1 :]:
                if following.startswith(("Error:", "Warning:")) or (not following and detail):
                    break
                if following:
                    detail.append(following)
            text = f"{line.rstrip('.')}: {' '.join(detail)}" if detail else line
            return text if len(text) <= 300 else text[:297] + "..."
    return str(error)


def cannot_install_provider(error: TerraformError) -> bool:
    """Whether a failed ``terraform init`` failed at installing providers."""
    return bool(_INSTALL_FAILURES.search(error.output or str(error)))


class ProviderSources:
    """Which provider installation a runner's Terraform commands use, and why.

    ``announce`` receives one line when the runner falls back to the local mirror.
    """

    def __init__(self, choice: str | None = None, announce: Callable[[str], None] | None = None) -> None:
        self.choice = provider_choice(choice)
        self.announce = announce or (lambda message: None)
        self._key = user_configuration()

    @property
    def fallback_reason(self) -> str | None:
        """Why the user's configuration was given up for the mirror (None: it was not)."""
        return _FALLBACKS.get(self._key) if self.choice == "auto" else None

    def current(self) -> str:
        """``terraform`` (the user's configuration) or ``mirror`` (ssm-profile's local mirror)."""
        if self.choice == "mirror" or self.fallback_reason:
            return "mirror"
        return "terraform"

    def label(self) -> str:
        """Which source is in use, for every message that reports a Terraform run."""
        if self.current() == "terraform":
            return f"providers: your Terraform configuration ({self._key})"
        from .locate import find_provider_mirror

        why = f"--providers or ${PROVIDERS_VARIABLE} is mirror" if self.choice == "mirror" else "fallback, your Terraform configuration could not install them"
        try:
            where = str(find_provider_mirror())
        except TerraformError:
            where = "(none found)"
        return f"providers: local mirror {where} ({why})"

    def init(self, attempt: Callable[[str], None]) -> None:
        """Run ``attempt(source)`` (a ``terraform init``); in auto mode, retry from the mirror
        when the user's configuration cannot install the provider."""
        source = self.current()
        try:
            attempt(source)
            return
        except TerraformError as error:
            if not (source == "terraform" and self.choice == "auto" and cannot_install_provider(error)):
                message = f"terraform init failed: {install_failure(error)}" if cannot_install_provider(error) else str(error)
                raise TerraformError(f"{message} ({self.label()})", error.output) from None
            with _LOCK:
                _FALLBACKS[self._key] = install_failure(error)
            self.announce(
                f"your Terraform configuration ({self._key}) could not install hashicorp/aws "
                f"({_FALLBACKS[self._key]}); using ssm-profile's local mirror (set {PROVIDERS_VARIABLE}=terraform to never fall back)"
            )
        try:
            attempt("mirror")
        except TerraformError as error:
            if source == "terraform":
                raise TerraformError(
                    f"your Terraform configuration ({self._key}) could not install hashicorp/aws "
                    f"({_FALLBACKS[self._key]}), nor could the local mirror fallback: {error}",
                    error.output,
                ) from None
            raise TerraformError(f"{error} ({self.label()})", error.output) from None
