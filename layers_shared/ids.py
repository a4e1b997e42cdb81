"""Identifier formats: `<prefix>_<uuid>` for resources, `req_<ULID>` for requests."""
from __future__ import annotations

import os
import re
import time
import uuid

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

PREFIXES = ("org", "usr", "prj", "lyr", "cnt", "sp", "sa", "key")
# Ids this service mints (and partners may supply) are kept in the canonical
# lowercase form, so `sp_ABC…` and `sp_abc…` cannot become two posts. Ids that
# come from the seed fixture are looked up as given.
MINTED = ("sp",)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def is_prefixed_uuid(value: object, prefix: str) -> bool:
    return isinstance(value, str) and re.fullmatch(f"{prefix}_{_UUID}", value) is not None


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(_UUID, value) is not None


def normalize_path_id(value: str, prefix: str) -> str | None:
    """Path parameters accept `<prefix>_<uuid>` or the bare UUID; anything else
    cannot name a resource of ours (and is answered like an unknown id)."""
    if is_prefixed_uuid(value, prefix):
        found = value
    elif is_uuid(value):
        found = f"{prefix}_{value}"
    else:
        return None
    return found.lower() if prefix in MINTED else found


def new_request_id() -> str:
    """`req_` + a 26-character ULID (48-bit ms time + 80 random bits)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "req_" + "".join(reversed(chars))
