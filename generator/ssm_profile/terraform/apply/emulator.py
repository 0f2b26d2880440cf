"""A local AWS API emulator for applying generated modules: moto, in a child process, on loopback.

:class:`Emulator` starts :mod:`.emulator_server` (moto with AWS managed policies loaded and
the SSM service-setting calls added), waits for the port it prints, and stops it on exit of
the ``with`` block, on error and on Ctrl-C alike. :func:`emulator_provider` is the provider
configuration a throwaway root uses to talk to it; it never appears in a generated module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from ...errors import SpecError, TerraformError

#: What a user runs to get the emulator.
EMULATOR_EXTRA = "pip install 'ssm-profile[emulator]'"
#: The account moto answers as (moto.core.DEFAULT_ACCOUNT_ID).
EMULATOR_ACCOUNT = "123456789012"
#: The services a generated module, and the checks after apply, call.
ENDPOINT_SERVICES = ("ec2", "iam", "kms", "logs", "s3", "ssm", "sts")
#: Mock credentials: the emulator accepts any, and these can never reach AWS.
EMULATOR_CREDENTIALS = {"access_key": "ssm-profile-emulator", "secret_key": "ssm-profile-emulator"}
STARTUP_SECONDS = 60.0
#: The role a client or provider assumes to act in another emulator account (moto needs no such
#: role), and its session's name.
ACCOUNT_ROLE = "ssm-profile-apply"
SESSION_NAME = "ssm-profile-test-apply"


def missing_packages() -> list[str]:
    """The packages of the ``emulator`` extra that are not installed."""
    return [name for name in ("moto", "flask", "boto3") if importlib.util.find_spec(name) is None]


def require_emulator() -> None:
    """Stop with exit code 2 and the install command when the ``emulator`` extra is missing."""
    missing = missing_packages()
    if missing:
        raise SpecError("--apply", f"needs the AWS API emulator ({', '.join(missing)} not installed): {EMULATOR_EXTRA}")


def emulator_provider(url: str) -> dict[str, Any]:
    """Provider arguments that point the hashicorp/aws provider at the emulator at ``url``."""
    return {
        **EMULATOR_CREDENTIALS,
        "skip_credentials_validation": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        "skip_requesting_account_id": True,
        "s3_use_path_style": True,
        "endpoints": [{service: url for service in ENDPOINT_SERVICES}],
    }


def account_role_arn(account: str, partition: str) -> str:
    """The role to assume to act in emulator account ``account``."""
    return f"arn:{partition}:iam::{account}:role/{ACCOUNT_ROLE}"


@contextlib.contextmanager
def emulator_answers(emulator: Emulator) -> Iterator[None]:
    """Turn the emulator not answering (it died, its port closed: botocore's connection errors)
    into :class:`TerraformError`, exit 3 with one line, as for Terraform failing to run."""
    try:
        yield
    except Exception as error:
        from botocore.exceptions import BotoCoreError

        if not isinstance(error, BotoCoreError):
            raise
        died = emulator.process is not None and emulator.process.poll() is not None
        state = f"exited (code {emulator.process.returncode})" if died and emulator.process else "stopped answering"
        raise TerraformError(f"the AWS API emulator at {emulator.url} {state} ({type(error).__name__}: {error})") from None


class Emulator:
    """A moto server on a free 127.0.0.1 port, for the lifetime of a ``with`` block."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0
        self._log: Any = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until it listens."""
        require_emulator()
        package_root = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH", "")])))
        self._log = tempfile.TemporaryFile(mode="w+", prefix="ssm-profile-emulator-")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ssm_profile.terraform.apply.emulator_server"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        try:
            self.port = self._wait_for_port()
        except BaseException:
            self.stop()
            raise
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        from .emulator_server import READY_PREFIX

        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(STARTUP_SECONDS):
            raise TerraformError(f"the AWS API emulator did not start within {STARTUP_SECONDS:.0f} s")
        line = self.process.stdout.readline().strip()
        if not line.startswith(READY_PREFIX):
            self._log.seek(0)
            raise TerraformError(f"the AWS API emulator failed to start: {(line or self._log.read()).strip()[-500:]}")
        return int(line.rsplit(":", 1)[1])

    def stop(self) -> None:
        """Stop the server (terminate, then kill) and wait for it; safe to call twice."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, service: str, region: str) -> Any:
        """A boto3 client of ``service`` in ``region`` that talks to this emulator only."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["access_key"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["secret_key"],
            region_name=region,
        ).client(service, endpoint_url=self.url)

    def account_client(self, account: str, partition: str = "aws") -> Callable[[str, str], Any]:
        """A client factory like :meth:`client` acting in ``account``.

        Its credentials come from the emulator's STS for a role in that account: moto keeps
        each account apart and answers a request in the account its credentials were issued
        for (https://docs.getmoto.org/en/latest/docs/multi_account.html).
        """
        import boto3

        if account == EMULATOR_ACCOUNT:
            return self.client
        issued = self.client("sts", "us-east-1").assume_role(RoleArn=account_role_arn(account, partition), RoleSessionName=SESSION_NAME)["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"], aws_session_token=issued["SessionToken"]
        )

        def client(service: str, region: str) -> Any:
            return session.client(service, region_name=region, endpoint_url=self.url)

        return client
