"""S3's bucket naming rules, today's and the legacy us-east-1 ones, as one-line problems.

Amazon S3 User Guide, "General purpose bucket naming rules" (bucketnamingrules.html).
"""

from __future__ import annotations

import re

from ..errors import shown

#: Amazon S3 User Guide, "General purpose bucket naming rules" (bucketnamingrules.html): before
#: March 1, 2018, buckets created in us-east-1 could have names of up to 255 characters with
#: upper-case letters and underscores. Such buckets still exist, so those names pass with a warning.
LEGACY_BUCKET_CHARACTERS = r"[A-Za-z0-9._-]+"


def legacy_bucket_name_warning(name: str) -> str:
    """A one-line warning when ``name`` is valid only under S3's legacy us-east-1 rules, else ""."""
    problem = current_bucket_name_problem(name)
    if not problem or _naming_problem(name, legacy=True):
        return ""
    return (
        f"{shown(name)} {problem} under today's S3 naming rules; only a bucket created in us-east-1 before "
        "March 1, 2018 (S3's legacy naming rules) can have this name"
    )


def bucket_name_problem(name: str) -> str:
    """Why no S3 bucket can be called ``name``, today or as a legacy us-east-1 bucket, or ""."""
    if not current_bucket_name_problem(name):
        return ""
    # The legacy rules allow more, so what they reject no bucket can be called (/, *, spaces, ARNs ...);
    # what only today's rules reject is accepted, with legacy_bucket_name_warning.
    return _naming_problem(name, legacy=True)


def current_bucket_name_problem(name: str) -> str:
    """Why ``name`` breaks AWS's current general purpose bucket naming rules, or an empty string."""
    return _naming_problem(name, legacy=False)


def _naming_problem(name: str, legacy: bool) -> str:
    # Amazon S3 User Guide, "General purpose bucket naming rules"; legacy: what us-east-1 allowed
    # before March 1, 2018 on top (upper case, underscores, 255 characters).
    if legacy and not 3 <= len(name) <= 255:
        return "must be 3 to 63 characters long (up to 255 only for legacy us-east-1 buckets)"
    if not legacy and not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if legacy and not re.fullmatch(LEGACY_BUCKET_CHARACTERS, name):
        return (
            "may hold only lower-case letters, digits, dots and hyphens (legacy us-east-1 buckets also upper-case "
            "letters and underscores); no /, *, spaces or ARNs"
        )
    if not legacy and not re.fullmatch(r"[a-z0-9.-]+", name):
        return "may hold only lower-case letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent dots"
    import ipaddress  # on first use: only names that get this far need it, and start-up stays lean

    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.lower().startswith(prefix):
            return f"must not start with {shown(prefix)} (reserved by S3)"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.lower().endswith(suffix):
            return f"must not end with {shown(suffix)} (reserved by S3)"
    return ""
