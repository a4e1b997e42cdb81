"""API keys: `lp_<live|test>_<KEYID16>_<secret>`, stored as SHA-256 of the secret.

The secret is 32 random bytes, so a fast hash is the right tool (no dictionary
to defend against); the comparison is constant-time.

Every request runs this first, on a cold start too, so the stored key item is
read as a plain dataclass, not a pydantic model: a 401 imports nothing beyond
the table access (docs/adr/0006-cold-start.md).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from layers_shared import errors
from layers_shared.store import keys
from layers_shared.store.table import Table

_KEY = re.compile(r"^lp_(live|test)_([A-Z0-9]{16})_(.+)$")
WILDCARD = "*"


@dataclass(frozen=True)
class ParsedKey:
    env: str
    key_id: str
    secret: str


@dataclass(frozen=True)
class Principal:
    key_id: str
    env: str
    organization_id: str
    owner_user_id: str | None
    scopes: tuple[str, ...]
    tier: str = "standard"
    organization_name: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_test(self) -> bool:
        return self.env == "test"

    def has_scope(self, scope: str) -> bool:
        return WILDCARD in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class StoredKey:
    """The `KEY#<keyId>` item, as the seed (`models.entities.ApiKey`) writes it."""

    keyId: str
    env: str
    secretHash: str
    organizationId: str
    ownerUserId: str | None = None
    scopes: tuple[str, ...] = ()
    revoked: bool = False

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> StoredKey | None:
        """None when there is no item; ValueError (a 500, as before) when it is malformed."""
        if item is None:
            return None
        text = {name: item.get(name) for name in ("keyId", "env", "secretHash", "organizationId")}
        owner, scopes, revoked = item.get("ownerUserId"), item.get("scopes", []), item.get("revoked", False)
        if (not all(isinstance(v, str) for v in text.values()) or text["env"] not in ("live", "test")
                or not (owner is None or isinstance(owner, str)) or not isinstance(revoked, bool)
                or not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
            raise ValueError(f"malformed API key item {item.get('PK')!r}")
        return cls(**text, ownerUserId=owner, scopes=tuple(scopes), revoked=revoked)


def parse_key(raw: str) -> ParsedKey | None:
    match = _KEY.match(raw or "")
    if not match:
        return None
    return ParsedKey(env=match.group(1), key_id=match.group(2), secret=match.group(3))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bearer_token(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(headers: dict[str, str], table: Table) -> Principal:
    token = bearer_token(headers)
    parsed = parse_key(token) if token else None
    if parsed is None:
        raise errors.unauthenticated()
    record = table.get(keys.api_key(parsed.key_id))
    key = StoredKey.from_item(record)
    if key is None or key.revoked or key.env != parsed.env:
        raise errors.unauthenticated()
    if not hmac.compare_digest(key.secretHash, hash_secret(parsed.secret)):
        raise errors.unauthenticated()
    return Principal(
        key_id=key.keyId,
        env=key.env,
        organization_id=key.organizationId,
        owner_user_id=key.ownerUserId,
        scopes=tuple(key.scopes),
        tier=str(record.get("tier", "standard")),
        organization_name=str(record.get("organizationName", "")),
    )


def require_scope(principal: Principal, scope: str | None) -> None:
    """Deny by default: a route without a declared scope is open to any valid key
    only when it says so explicitly (scope=None is whoami's `any valid key`)."""
    if scope is None:
        return
    if not principal.has_scope(scope):
        raise errors.forbidden_scope(scope)
