"""Offline judges of a generated module: checkov, parliament and policy_sentry.

Each judge is a third-party tool run as a subprocess, reading nothing from the network:

- ``checkov`` on the module folder (framework ``terraform``) and on the ``terraform show
  -json`` plan (framework ``terraform_plan``), both with ``--skip-download``;
- ``parliament`` (with its community auditors) on every permission policy document the plan
  creates;
- ``policy_sentry``, confirming every action of those policies is in its bundled IAM database.

The tools live in their own virtual environment (``ssm-profile judges install`` creates it
under the cache folder, :mod:`ssm_profile.judges_env`): checkov pins boto3/botocore releases
older than the botocore whose Region data ssm-profile generates from, so sharing one
environment would change generated modules.

A finding fails unless a suppression names its judge, its check, a scope covering it and a
written justification: the suppressions ssm-profile ships (package data, always applied) and
the user's own file (``judges-suppressions.toml``, found beside the module or in a folder
above it, or given with ``--suppressions``). Findings about wildcards or actions IAM does not know can never
be suppressed: the module's whole promise is to grant named actions on named resources.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import JudgeError, SpecError

SUPPRESSIONS_FILE = "judges-suppressions.toml"
JUDGES_VENV = ".venv-judges"
JUDGES_VENV_VARIABLE = "SSM_PROFILE_JUDGES_VENV"
TOOLS = ("checkov", "parliament", "policy_sentry")

#: The judges, in report order. ``checkov`` suppressions cover both checkov runs.
JUDGE_NAMES = ("checkov (module)", "checkov (plan)", "parliament", "policy_sentry")
SUPPRESSIBLE_JUDGES = ("checkov", "parliament", "policy_sentry")

#: Resource types whose ``policy`` attribute is a permission (identity-based) policy.
PERMISSION_POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy")

#: Checks no suppression may name: a wildcard action or resource, or an action that does not
#: exist, is exactly what the generator promises never to write.
NEVER_SUPPRESSED = {
    "checkov": frozenset(
        {
            # Policy resources (checked on the plan and on inline policies)...
            "CKV_AWS_1",  # "*:*" administrative privileges
            "CKV_AWS_62",  # "*:*" in an IAM policy
            "CKV_AWS_63",  # "*" as a statement's action
            "CKV_AWS_286",  # privilege escalation without constraints
            "CKV_AWS_287",  # credentials exposure without constraints
            "CKV_AWS_288",  # data exfiltration without constraints
            "CKV_AWS_289",  # permissions management without constraints
            "CKV_AWS_290",  # write access without constraints
            "CKV_AWS_355",  # "*" as a statement's resource for restrictable actions
            # ...and the same rules for data "aws_iam_policy_document" (checked on the module).
            "CKV_AWS_49",  # "*" actions
            "CKV_AWS_107",  # credentials exposure without constraints
            "CKV_AWS_108",  # data exfiltration without constraints
            "CKV_AWS_109",  # permissions management without constraints
            "CKV_AWS_110",  # privilege escalation without constraints
            "CKV_AWS_111",  # write access without constraints
            "CKV_AWS_356",  # "*" as a statement's resource for restrictable actions
            "CKV2_AWS_40",  # full IAM privileges
            "INLINE_SKIP",  # a checkov:skip comment in the module, outside the one file
            "PARSE_ERROR",
        }
    ),
    "parliament": frozenset({"RESOURCE_STAR", "UNKNOWN_ACTION", "UNKNOWN_PREFIX", "MALFORMED", "POLICY_UNKNOWN_AT_PLAN"}),
    "policy_sentry": frozenset({"UNKNOWN_ACTION", "UNKNOWN_SERVICE", "WILDCARD_ACTION"}),
}

_MODULE_PREFIX = "module.ssm_profile."
_TIMEOUT_SECONDS = 900


# --- the tools ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeTools:
    """The judges' executables and the environment they run with."""

    checkov: Path
    parliament: Path
    policy_sentry: Path
    env: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def judge_env() -> dict[str, str]:
    """The judges' environment: no update checks, no platform calls, no colour."""
    env = dict(os.environ)
    # checkov asks PyPI for a newer release on every run and caches the answer in ~/.cache.
    env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] = "true"
    env["BC_SKIP_MAPPING"] = "TRUE"
    env["ANSI_COLORS_DISABLED"] = "1"
    env["NO_COLOR"] = "1"
    env.pop("BC_API_KEY", None)
    return env


def _bin_dirs() -> list[Path]:
    from .judges_env import is_installed, managed_venv

    explicit = os.environ.get(JUDGES_VENV_VARIABLE)
    if explicit:
        return [Path(explicit) / "bin"]
    managed = managed_venv()
    here = Path.cwd().resolve()
    # .venv-judges: this repository's own development flow (an older `make install-judges`).
    found = [folder / JUDGES_VENV / "bin" for folder in (here, *here.parents) if (folder / JUDGES_VENV / "bin").is_dir()]
    return ([managed / "bin"] if is_installed(managed) else []) + found[:1] + [Path(sys.executable).parent]


def find_judges() -> JudgeTools:
    """The judges' executables: ``$SSM_PROFILE_JUDGES_VENV``, else the environment
    ``ssm-profile judges install`` manages, else the nearest ``.venv-judges`` in the working
    folder or above it, else beside this interpreter, else on ``PATH``."""
    dirs = _bin_dirs()
    found: dict[str, Path] = {}
    for tool in TOOLS:
        for folder in dirs:
            if (folder / tool).is_file() and os.access(folder / tool, os.X_OK):
                found[tool] = folder / tool
                break
        else:
            on_path = None if os.environ.get(JUDGES_VENV_VARIABLE) else shutil.which(tool)
            if on_path:
                found[tool] = Path(on_path)
    missing = [tool for tool in TOOLS if tool not in found]
    if missing:
        from .judges_env import managed_venv

        looked = ", ".join(str(d) for d in dirs) + ("" if os.environ.get(JUDGES_VENV_VARIABLE) else f", {managed_venv()}, PATH")
        raise JudgeError(
            f"judges not found: {', '.join(missing)} (looked in {looked}); run `ssm-profile judges install`, "
            f"or set {JUDGES_VENV_VARIABLE} to a venv holding `ssm-profile judges requirements`"
        )
    return JudgeTools(env=judge_env(), **found)


def _run_tool(tools: JudgeTools, argv: list[str], *, ok_codes: tuple[int, ...], what: str) -> str:
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=tools.env, timeout=_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        raise JudgeError(f"{what} did not finish within {_TIMEOUT_SECONDS} s") from None
    except OSError as error:
        raise JudgeError(f"{what} could not start: {error}") from None
    if result.returncode not in ok_codes:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise JudgeError(f"{what} failed (exit {result.returncode}): {tail[0]}")
    return result.stdout


# --- findings, verdicts and suppressions ----------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One thing a judge objects to.

    ``resource`` is the address inside the module (``aws_iam_policy.s3``); ``actions`` are the
    IAM actions the finding is about, when the judge names them.
    """

    judge: str
    check: str
    resource: str
    message: str
    actions: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """The judge name suppressions use: both checkov runs are ``checkov``."""
        return self.judge.split(" ")[0]

    def line(self) -> str:
        """The finding as one report line."""
        actions = f" [{', '.join(self.actions)}]" if self.actions else ""
        return f"{self.judge}: {self.check} on {self.resource or 'the module'}{actions}: {self.message}"


@dataclass(frozen=True)
class Suppression:
    """A finding ``ssm-profile check`` accepts, and why."""

    judge: str
    check: str
    resource: str
    justification: str
    actions: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        """Whether this suppression covers ``finding``: same judge and check, its resource
        matches the glob, and (when the suppression lists actions) every action it names is listed."""
        if (finding.family, finding.check) != (self.judge, self.check):
            return False
        if not fnmatch.fnmatchcase(finding.resource, self.resource):
            return False
        if self.actions:
            allowed = {a.lower() for a in self.actions}
            return bool(finding.actions) and all(a.lower() in allowed for a in finding.actions)
        return True


@dataclass(frozen=True)
class Verdict:
    """What one judge said: how much it checked, what fails and what a suppression accepted."""

    judge: str
    checked: str
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[tuple[Finding, Suppression], ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every finding is suppressed."""
        return not self.findings

    def summary(self) -> str:
        """One line: the judge, what it checked, its findings."""
        counts = f"{len(self.findings)} finding{'s' * (len(self.findings) != 1)}"
        if self.suppressed:
            counts += f", {len(self.suppressed)} suppressed"
        return f"{self.judge}: {'ok' if self.ok else 'FAILED'}: {self.checked}, {counts} ({self.seconds:.1f} s)"


def apply_suppressions(
    judge: str, checked: str, findings: Iterable[Finding], suppressions: Iterable[Suppression], seconds: float = 0.0
) -> Verdict:
    """The verdict of ``judge`` once ``suppressions`` have accepted what they cover."""
    rules = tuple(suppressions)
    failing: list[Finding] = []
    accepted: list[tuple[Finding, Suppression]] = []
    for finding in findings:
        rule = next((r for r in rules if r.covers(finding)), None)
        if rule is None or finding.check in NEVER_SUPPRESSED.get(finding.family, ()):
            failing.append(finding)
        else:
            accepted.append((finding, rule))
    return Verdict(judge, checked, tuple(failing), tuple(accepted), seconds)


_SUPPRESSION_KEYS = {"judge", "check", "scope", "justification"}
_SCOPE_KEYS = {"resource", "actions"}
_MIN_JUSTIFICATION_WORDS = 8


def shipped_suppressions() -> tuple[Suppression, ...]:
    """The suppressions ssm-profile itself justifies, shipped inside the package."""
    from .judges_env import SUPPRESSIONS_RESOURCE, shipped_suppressions_text

    return _parse_suppressions(Path(f"ssm_profile/data/{SUPPRESSIONS_RESOURCE}"), shipped_suppressions_text())


def suppressions_for(user_file: Path | None) -> tuple[Suppression, ...]:
    """The shipped suppressions plus those of the user's file, if there is one."""
    return shipped_suppressions() + (load_suppressions(user_file) if user_file is not None else ())


def load_suppressions(path: Path) -> tuple[Suppression, ...]:
    """Read and validate a suppressions file (TOML, ``[[suppression]]`` tables)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "no such file") from None
    return _parse_suppressions(Path(path), text)


def _parse_suppressions(path: Path, text: str) -> tuple[Suppression, ...]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(str(path), f"not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"suppression"})
    if unknown:
        raise SpecError(f"{path}: {unknown[0]}", "unknown key; allowed: suppression")
    entries = data.get("suppression", [])
    if not isinstance(entries, list):
        raise SpecError(f"{path}: suppression", "must be an array of tables ([[suppression]])")
    return tuple(_suppression(path, index, entry) for index, entry in enumerate(entries))


def _suppression(path: Path, index: int, entry: Any) -> Suppression:
    where = f"{path}: suppression[{index}]"
    if not isinstance(entry, dict):
        raise SpecError(where, "must be a table")
    unknown = sorted(set(entry) - _SUPPRESSION_KEYS)
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(_SUPPRESSION_KEYS))}")
    for key in sorted(_SUPPRESSION_KEYS):
        if key not in entry:
            raise SpecError(f"{where}.{key}", "required")
    judge, check, justification, scope = entry["judge"], entry["check"], entry["justification"], entry["scope"]
    if judge not in SUPPRESSIBLE_JUDGES:
        raise SpecError(f"{where}.judge", f"{judge!r} is not a judge; allowed: {', '.join(SUPPRESSIBLE_JUDGES)}")
    if not isinstance(check, str) or not check.strip():
        raise SpecError(f"{where}.check", "must name one check ID")
    if check in NEVER_SUPPRESSED[judge]:
        raise SpecError(
            f"{where}.check", f"{check} is about wildcards or unknown actions and cannot be suppressed; fix the module instead"
        )
    if not isinstance(justification, str) or len(justification.split()) < _MIN_JUSTIFICATION_WORDS:
        raise SpecError(f"{where}.justification", f"must say why, in at least {_MIN_JUSTIFICATION_WORDS} words")
    if not isinstance(scope, dict):
        raise SpecError(f"{where}.scope", 'must be a table: { resource = "<address glob>", actions = [...] }')
    unknown = sorted(set(scope) - _SCOPE_KEYS)
    if unknown:
        raise SpecError(f"{where}.scope.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(_SCOPE_KEYS))}")
    resource = scope.get("resource")
    if not isinstance(resource, str) or not resource or resource.strip("*?.") == "":
        raise SpecError(f"{where}.scope.resource", "must name a resource address (a glob such as aws_iam_policy.*, not *)")
    actions = scope.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, str) and a and "*" not in a for a in actions):
        raise SpecError(f"{where}.scope.actions", "must be a list of IAM actions without wildcards")
    return Suppression(judge, check, resource, " ".join(justification.split()), tuple(actions))


def find_suppressions_file(module_dir: Path) -> Path | None:
    """The nearest ``judges-suppressions.toml`` in ``module_dir`` or a folder above it."""
    here = Path(module_dir).resolve()
    for folder in (here, *here.parents):
        if (folder / SUPPRESSIONS_FILE).is_file():
            return folder / SUPPRESSIONS_FILE
    return None


# --- reading the plan ----------------------------------------------------------------------


def module_address(address: str) -> str:
    """A plan address as an address inside the module: ``aws_iam_policy.s3``."""
    return address.removeprefix(_MODULE_PREFIX)


def permission_policies(plan: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The permission policy documents a plan creates, by module address, and the addresses
    whose policy is not known until apply (which no judge can read)."""
    known: dict[str, str] = {}
    unknown: list[str] = []
    for change in plan.get("resource_changes", []):
        if change.get("type") not in PERMISSION_POLICY_TYPES or change.get("mode", "managed") != "managed":
            continue
        if "delete" in change["change"]["actions"] and "create" not in change["change"]["actions"]:
            continue
        address = module_address(change["address"])
        text = (change["change"].get("after") or {}).get("policy")
        if isinstance(text, str):
            known[address] = text
        elif (change["change"].get("after_unknown") or {}).get("policy"):
            unknown.append(address)
    return dict(sorted(known.items())), sorted(unknown)


def policy_actions(document: dict[str, Any]) -> list[str]:
    """Every action an Allow or Deny statement names (``Action`` and ``NotAction``)."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    actions: list[str] = []
    for statement in statements:
        for key in ("Action", "NotAction"):
            value = statement.get(key, [])
            actions.extend([value] if isinstance(value, str) else value)
    return actions


# --- the judges ----------------------------------------------------------------------------


#: What the ``checkov`` console script does, except that it imports checkov first and then
#: waits for its arguments (one JSON list on stdin; an empty line ends it unused).
_WAITING_CHECKOV = """\
import json, sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    from checkov.main import Checkov
    line = sys.stdin.readline()
    sys.exit(Checkov(argv=json.loads(line)).run() if line.strip() else 0)
"""


class WaitingCheckov:
    """A checkov process started early: importing checkov is most of a run's cost (about 4 s
    of CPU against 0.4 s for checking a plan), so it imports while Terraform still plans and
    checks the plan the moment it exists.

    Falls back to a plain ``checkov`` run when the interpreter behind the checkov script
    cannot be read from its first line.
    """

    def __init__(self, tools: JudgeTools) -> None:
        self.tools = tools
        self._process: subprocess.Popen[str] | None = None
        python = _script_interpreter(tools.checkov)
        if python is not None:
            self._process = subprocess.Popen(
                [str(python), "-c", _WAITING_CHECKOV],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=tools.env,
            )

    def run(self, argv: list[str], what: str) -> str:
        """Run checkov with ``argv``; return what it printed."""
        process, self._process = self._process, None
        if process is None:
            return _run_tool(self.tools, [str(self.tools.checkov), *argv], ok_codes=(0, 1), what=what)
        try:
            out, err = process.communicate(json.dumps(argv) + "\n", timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise JudgeError(f"{what} did not finish within {_TIMEOUT_SECONDS} s") from None
        if process.returncode not in (0, 1):
            tail = (err or out).strip().splitlines()[-1:] or ["no output"]
            raise JudgeError(f"{what} failed (exit {process.returncode}): {tail[0]}")
        return out

    def close(self) -> None:
        """End the process if it was never given its arguments."""
        process, self._process = self._process, None
        if process is not None:
            process.communicate("\n", timeout=_TIMEOUT_SECONDS)


def _script_interpreter(script: Path) -> Path | None:
    try:
        with open(script, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    interpreter = Path(first[2:].strip()) if first.startswith("#!") and " " not in first[2:].strip() else None
    return interpreter if interpreter is not None and interpreter.is_file() else None


def _checkov(
    tools: JudgeTools, target: list[str], framework: str, judge: str, waiting: WaitingCheckov | None = None
) -> tuple[str, list[Finding]]:
    argv = [*target, "--framework", framework, "--skip-download", "--output", "json", "--quiet", "--compact"]
    what = f"checkov ({framework})"
    if waiting is not None:
        out = waiting.run(argv, what)
    else:
        out = _run_tool(tools, [str(tools.checkov), *argv], ok_codes=(0, 1), what=what)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        raise JudgeError(f"checkov ({framework}) printed no JSON report: {out.strip()[:200]!r}") from None
    reports = report if isinstance(report, list) else [report]
    findings: list[Finding] = []
    passed = 0
    for part in reports:
        summary = part.get("summary", part)
        passed += int(summary.get("passed", 0))
        results = part.get("results", {})
        for failed in results.get("failed_checks", []):
            findings.append(Finding(judge, failed["check_id"], module_address(failed.get("resource", "")), failed.get("check_name", "")))
        for skipped in results.get("skipped_checks", []):
            findings.append(
                Finding(
                    judge,
                    "INLINE_SKIP",
                    module_address(skipped.get("resource", "")),
                    f"{skipped['check_id']} skipped inside the module; suppressions belong in {SUPPRESSIONS_FILE}",
                )
            )
        if int(summary.get("parsing_errors", 0)):
            for path in results.get("parsing_errors", []) or ["?"]:
                findings.append(Finding(judge, "PARSE_ERROR", "", f"checkov could not parse {path}"))
    return f"{passed} checks passed", findings


def judge_module_with_checkov(module_dir: Path, tools: JudgeTools) -> tuple[str, list[Finding]]:
    """checkov, framework ``terraform``, on the module folder."""
    return _checkov(tools, ["--directory", str(module_dir)], "terraform", "checkov (module)")


def judge_plan_with_checkov(
    plan_file: Path, tools: JudgeTools, waiting: WaitingCheckov | None = None
) -> tuple[str, list[Finding]]:
    """checkov, framework ``terraform_plan``, on a ``terraform show -json`` file (in
    ``waiting``, a checkov process started earlier, when given)."""
    return _checkov(tools, ["--file", str(plan_file)], "terraform_plan", "checkov (plan)", waiting)


def judge_policies_with_parliament(plan: dict[str, Any], tools: JudgeTools) -> tuple[str, list[Finding]]:
    """parliament with its community auditors on every permission policy of the plan."""
    policies, unknown = permission_policies(plan)
    findings = [
        Finding("parliament", "POLICY_UNKNOWN_AT_PLAN", address, "the policy document is not known until apply, so no judge can read it")
        for address in unknown
    ]
    if policies:
        with tempfile.TemporaryDirectory(prefix="ssm-profile-parliament-") as tmp:
            files: dict[str, str] = {}
            for index, (address, text) in enumerate(policies.items()):
                path = Path(tmp) / f"policy-{index}.json"
                path.write_text(text, encoding="utf-8")
                files[str(path)] = address
            # --files, not --file or stdin: parliament's --file needs a terminal, and stdin takes one policy.
            out = _run_tool(
                tools,
                [str(tools.parliament), "--include-community-auditors", "--json", "--minimum_severity", "INFO", "--files", ",".join(files)],
                ok_codes=(0, 1),
                what="parliament",
            )
            for line in out.splitlines():
                if line.strip():
                    findings.append(_parliament_finding(json.loads(line), files))
    return f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'}", findings


def _parliament_finding(raw: dict[str, Any], files: dict[str, str]) -> Finding:
    location = raw.get("location") or {}
    detail = raw.get("detail")
    if location.get("actions"):
        actions = tuple(location["actions"])
    elif isinstance(detail, list) and all(isinstance(d, str) for d in detail):
        actions = tuple(detail)
    elif location.get("string"):
        actions = (location["string"],)
    else:
        actions = ()
    message = raw.get("title", "")
    if isinstance(detail, str) and detail:
        message += f" ({detail})"
    return Finding(
        "parliament", raw.get("issue", "UNKNOWN"), files.get(location.get("filepath", ""), ""), message, tuple(sorted(actions))
    )


def judge_actions_with_policy_sentry(plan: dict[str, Any], tools: JudgeTools) -> tuple[str, list[Finding]]:
    """policy_sentry: every action of every permission policy is in its IAM database."""
    policies, _ = permission_policies(plan)
    wanted: dict[str, set[str]] = {}
    for address, text in policies.items():
        for action in policy_actions(json.loads(text)):
            wanted.setdefault(action, set()).add(address)
    findings: list[Finding] = []
    services: dict[str, list[str]] = {}
    for action in sorted(wanted):
        if "*" in action or "?" in action:
            for address in sorted(wanted[action]):
                findings.append(Finding("policy_sentry", "WILDCARD_ACTION", address, "a wildcard action names no single action", (action,)))
        elif ":" not in action:
            for address in sorted(wanted[action]):
                findings.append(Finding("policy_sentry", "UNKNOWN_ACTION", address, "not of the form service:Action", (action,)))
        else:
            services.setdefault(action.split(":", 1)[0].lower(), []).append(action)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(4, len(services)))) as pool:
        known = dict(zip(services, pool.map(lambda s: _service_actions(s, tools), services)))
    for service, actions in sorted(services.items()):
        for action in actions:
            if not known[service]:
                check, message = "UNKNOWN_SERVICE", f"policy_sentry knows no service {service!r}"
            elif action.lower() not in known[service]:
                check, message = "UNKNOWN_ACTION", f"not an action of {service} in policy_sentry's IAM database"
            else:
                continue
            for address in sorted(wanted[action]):
                findings.append(Finding("policy_sentry", check, address, message, (action,)))
    return f"{len(wanted)} action{'s' * (len(wanted) != 1)} in {len(policies)} polic{'y' if len(policies) == 1 else 'ies'}", findings


def _service_actions(service: str, tools: JudgeTools) -> set[str]:
    out = _run_tool(
        tools,
        [str(tools.policy_sentry), "query", "action-table", "--service", service],
        ok_codes=(0,),
        what=f"policy_sentry query action-table --service {service}",
    )
    # Prints "ALL <service> actions:" then one "<service>:<Action>" a line.
    return {line.strip().lower() for line in out.splitlines() if line.lower().startswith(f"{service}:")}


def timed(judge: str, run: Any, suppressions: Iterable[Suppression], *args: Any) -> Verdict:
    """Run one judge function and turn its findings into a verdict."""
    start = time.perf_counter()
    checked, findings = run(*args)
    return apply_suppressions(judge, checked, findings, suppressions, time.perf_counter() - start)


def run_judges(
    module_dir: Path,
    plan: dict[str, Any],
    *,
    tools: JudgeTools | None = None,
    suppressions: Iterable[Suppression] | None = None,
) -> tuple[Verdict, ...]:
    """Run every judge on ``module_dir`` and its ``terraform show -json`` ``plan``, in parallel.

    ``suppressions`` default to the shipped ones plus the nearest suppressions file's. ``ssm-profile check`` runs
    the same judges but starts checkov on the folder before Terraform has planned.
    """
    from concurrent.futures import ThreadPoolExecutor

    tools = tools or find_judges()
    if suppressions is None:
        suppressions = suppressions_for(find_suppressions_file(module_dir))
    rules = tuple(suppressions)
    with tempfile.TemporaryDirectory(prefix="ssm-profile-judges-") as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [
                pool.submit(timed, "checkov (module)", judge_module_with_checkov, rules, Path(module_dir), tools),
                pool.submit(timed, "checkov (plan)", judge_plan_with_checkov, rules, plan_file, tools),
                pool.submit(timed, "parliament", judge_policies_with_parliament, rules, plan, tools),
                pool.submit(timed, "policy_sentry", judge_actions_with_policy_sentry, rules, plan, tools),
            ]
            return tuple(f.result() for f in futures)
