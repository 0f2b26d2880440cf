"""IAM policies as the domain model sees them: statements, documents, their size, and the split
of a policy too large for IAM's quota into numbered parts. Pure: no files, no environment, no clock.
"""

from __future__ import annotations

import json

import msgspec

from ..errors import GenerationError

#: IAM quota: characters in a managed policy document, whitespace not counted.
MANAGED_POLICY_MAX_CHARS = 6144
#: IAM quota: characters in a managed policy's name.
POLICY_NAME_MAX_CHARS = 128

#: Stands for the AWS account ID in ARNs; the module takes the real value as `var.account_id`
#: (data.aws_caller_identity would call AWS, and offline plans must not).
ACCOUNT = "<account-id>"

#: Actions whose service defines no resource type: IAM accepts only "*" as their resource
#: (Service Authorization Reference). The only actions ever granted on "*".
RESOURCELESS_ACTIONS = frozenset(
    {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "logs:DescribeLogGroups",
    }
)


class Statement(msgspec.Struct, frozen=True):
    """One Allow statement of a policy document."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str = ""
    region: str = ""  # the Region the grant serves, for statements written out per Region

    def document(self) -> dict[str, object]:
        """The statement as IAM JSON."""
        return {"Sid": self.sid, "Effect": "Allow", "Action": list(self.actions), "Resource": list(self.resources)}

    @property
    def size(self) -> int:
        """Characters of the compact statement JSON."""
        return _compact_size(self.document())


class CustomPolicy(msgspec.Struct, frozen=True):
    """A customer managed policy the module creates and attaches.

    ``purpose`` says what it grants: ``"s3"`` (the custom S3 policy and its split parts) or
    ``"session_manager"``; ``key`` is ``purpose`` for the first part, ``purpose_2`` ... after it.
    """

    key: str
    name: str
    statements: tuple[Statement, ...]
    description: str
    purpose: str

    def document(self) -> dict[str, object]:
        """The policy document as IAM JSON."""
        return policy_document(self.statements)

    @property
    def size(self) -> int:
        """Characters IAM counts against :data:`MANAGED_POLICY_MAX_CHARS`."""
        return document_size(self.statements)


class ManagedPolicy(msgspec.Struct, frozen=True):
    """An AWS managed policy attached to a role."""

    key: str
    name: str
    arn: str
    why: str


def policy_document(statements: tuple[Statement, ...] | list[Statement]) -> dict[str, object]:
    """A policy document holding ``statements``."""
    return {"Version": "2012-10-17", "Statement": [s.document() for s in statements]}


#: What json.dumps(value, separators=(",", ":")) uses, built once instead of on every call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _compact_size(value: object) -> int:
    # None of our strings contain whitespace, so compact JSON is exactly what IAM counts.
    return len(_COMPACT_JSON.encode(value))


_EMPTY_DOCUMENT_SIZE = _compact_size(policy_document([]))


def document_size(statements: tuple[Statement, ...] | list[Statement]) -> int:
    """Non-whitespace characters of the policy document, as IAM counts them.

    The compact document is its frame plus each statement and the commas between them, so
    the size adds up from each statement's own size.
    """
    return _EMPTY_DOCUMENT_SIZE + sum(s.size for s in statements) + max(len(statements) - 1, 0)


def split_to_quota(statements: list[Statement], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[list[Statement]]:
    """Pack statements, in order, into as few documents as fit under ``limit`` each.

    A statement too large for one document on its own is first cut into parts by resource
    (``Sid``, ``SidPart2``, ...). Packing is first-fit in order, so the same input always
    gives the same split, and the union of the parts grants exactly what the input grants.
    """
    pieces: list[Statement] = []
    for statement in statements:
        pieces.extend(_cut_statement(statement, limit))
    documents: list[list[Statement]] = []
    size = 0
    for piece in pieces:
        piece_size = piece.size  # computed, not stored: encode the statement once here
        if documents and size + 1 + piece_size <= limit:
            documents[-1].append(piece)
            size += 1 + piece_size
        else:
            documents.append([piece])
            size = _EMPTY_DOCUMENT_SIZE + piece_size
    return documents


def _cut_statement(statement: Statement, limit: int) -> list[Statement]:
    if document_size([statement]) <= limit:
        return [statement]
    # A part with no resources yet, named like the longest Sid a part can get.
    empty = document_size([Statement(statement.sid + "Part99", statement.actions, ())])
    parts: list[list[str]] = [[]]
    size = empty
    for resource in statement.resources:
        extra = _compact_size(resource) + (1 if parts[-1] else 0)
        if parts[-1] and size + extra > limit:
            parts.append([])
            size, extra = empty, _compact_size(resource)
        parts[-1].append(resource)
        size += extra
    return [
        Statement(
            sid=statement.sid if index == 0 else f"{statement.sid}Part{index + 1}",
            actions=statement.actions,
            resources=tuple(resources),
            why=statement.why,
            region=statement.region,
        )
        for index, resources in enumerate(parts)
    ]


def numbered_policies(
    statements: list[Statement], purpose: str, base: str, field_path: str, description: str
) -> tuple[CustomPolicy, ...]:
    """``statements`` split to IAM's size quota as ``base``, ``base-2`` ... (keys ``purpose``, ``purpose_2`` ...).

    Raises :class:`GenerationError` at ``field_path`` (the spec field of ``base``) when the
    split's last name would break IAM's name quota.
    """
    if not statements:
        return ()
    documents = split_to_quota(statements)
    names = [base if index == 0 else f"{base}-{index + 1}" for index in range(len(documents))]
    if len(names[-1]) > POLICY_NAME_MAX_CHARS:
        raise GenerationError(
            f"{field_path}: {base!r} leaves no room for the suffix {names[-1][len(base):]!r} of the split policies; "
            f"use at most {POLICY_NAME_MAX_CHARS - len(names[-1]) + len(base)} characters"
        )
    return tuple(
        CustomPolicy(
            key=purpose if index == 0 else f"{purpose}_{index + 1}",
            name=name,
            statements=tuple(document),
            description=description,
            purpose=purpose,
        )
        for index, (name, document) in enumerate(zip(names, documents, strict=False))
    )
