"""Where a device handoff goes: E.164 check and the destination phone rules
(decisions.md, "Device handoff"). Pure: no table, no clock."""
from __future__ import annotations

import re
from dataclasses import dataclass

from layers_shared.models.entities import User

# ASCII: in a str pattern `\d` would also match other scripts' digits (e.g. "１").
E164 = re.compile(r"^\+[1-9]\d{7,14}$", re.ASCII)

PHONE_REQUIRED = "PHONE_REQUIRED"
OWNER_PHONE_UNVERIFIED = "OWNER_PHONE_UNVERIFIED"


def is_e164(value: object) -> bool:
    # fullmatch, not match: `$` would accept a trailing newline.
    return isinstance(value, str) and E164.fullmatch(value) is not None


def format_issue(value: object) -> str | None:
    """Why an explicit `phoneNumber` is malformed, or None when it is fine.
    `""` is malformed (only null or an absent field mean "use the owner")."""
    if value is None or is_e164(value):
        return None
    return "must be an E.164 phone number: '+', country code and number, digits only (e.g. +15551234567)"


@dataclass(frozen=True)
class Resolved:
    phone: str
    source: str  # "explicit" | "owner"


@dataclass(frozen=True)
class Unresolved:
    reason: str   # PHONE_REQUIRED | OWNER_PHONE_UNVERIFIED
    message: str


def resolve(explicit: str | None, owner: User | None, organization_id: str) -> Resolved | Unresolved:
    """Explicit number -> the key owner's verified phone -> why neither works.

    An owner from another organization (a data error) counts as no owner: a
    key never texts a phone its organization does not own.
    """
    if explicit is not None:
        return Resolved(explicit, "explicit")
    if owner is None or owner.organizationId != organization_id or not is_e164(owner.phoneNumber):
        return Unresolved(PHONE_REQUIRED, "No phoneNumber was given and the API key owner has no phone number; "
                                          "pass phoneNumber in E.164 form.")
    if not owner.phoneVerified:
        return Unresolved(OWNER_PHONE_UNVERIFIED, "No phoneNumber was given and the API key owner's phone number "
                                                  "is not verified; verify it or pass phoneNumber.")
    return Resolved(owner.phoneNumber, "owner")  # type: ignore[arg-type]  (is_e164 checked it is a str)


def last4(phone: str) -> str:
    return phone[-4:]
