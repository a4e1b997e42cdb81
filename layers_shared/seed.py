"""The seed fixture (shared/spec/seed-fixture.md): validate, then load.

This is a public interface: exactly the documented format is accepted, and a
bad entry is refused with a message naming it (`socialAccounts[2].platform:
...`). The same loader seeds a real table (`python -m layers_shared.admin seed
FILE`): keys are stored as hashes, tokens encrypted, nothing in plaintext.
"""
from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from layers_shared import auth, clock, ids
from layers_shared.domain.model_checks import issues_of
from layers_shared.models import entities as e
from layers_shared.platforms.port import Credentials
from layers_shared.secrets.vault import TokenVault
from layers_shared.store import items
from layers_shared.store.table import Table


class SeedError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _prefixed(prefix: str):
    def check(value: str) -> str:
        if not ids.is_prefixed_uuid(value, prefix):
            raise ValueError(f"must be {prefix}_<uuid>")
        return value
    return check


class SeedOrganization(_Strict):
    id: str
    name: str
    tier: Literal["standard", "pilot", "partner"] = "standard"
    primaryOperatorUserId: str | None = None
    _id = field_validator("id")(_prefixed("org"))


class SeedUser(_Strict):
    id: str
    organizationId: str
    phoneNumber: str | None = None
    phoneVerified: bool = False
    _id = field_validator("id")(_prefixed("usr"))


class SeedApiKey(_Strict):
    key: str
    organizationId: str
    ownerUserId: str | None = None
    scopes: list[str] = Field(default_factory=list)
    revoked: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        parsed = auth.parse_key(value)
        if parsed is None or len(parsed.secret) < 20 or not all(c.isalnum() or c in "-_" for c in parsed.secret):
            raise ValueError("must be lp_<live|test>_<16 uppercase alphanumerics>_<secret of 20+ url-safe characters>")
        return value


class SeedProject(_Strict):
    id: str
    organizationId: str
    name: str = ""
    requiresApproval: bool = False
    _id = field_validator("id")(_prefixed("prj"))


class SeedLayer(_Strict):
    id: str
    projectId: str
    templateId: str
    config: dict[str, Any] = Field(default_factory=dict)
    _id = field_validator("id")(_prefixed("lyr"))


class SeedSandbox(_Strict):
    outcome: str = "success"

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str) -> str:
        if value in ("success", "reject", "unknown"):
            return value
        if value.startswith("transient:") and value.split(":", 1)[1].isdigit():
            return value
        raise ValueError("must be success | reject | transient:<n> | unknown")


class SeedCredentials(_Strict):
    accessToken: str
    refreshToken: str | None = None
    expiresAt: str | None = None
    platformUserId: str | None = None


class SeedSocialAccount(_Strict):
    id: str
    projectId: str
    platform: Literal["tiktok", "instagram"]
    handle: str
    status: Literal["connected", "reauth_required", "disconnected"] = "connected"
    grantedScopes: list[Literal["video.publish", "video.upload", "instagram_content_publish"]] = Field(default_factory=list)
    instagramAccountType: Literal["business", "creator", "personal"] | None = None
    layerIds: list[str] = Field(default_factory=list)
    sandbox: SeedSandbox = Field(default_factory=SeedSandbox)
    credentials: SeedCredentials | None = None
    avatarUrl: str | None = None
    connectedAt: str | None = None
    # TikTok only: what the sandbox's creator_info offers (default: a public account's set).
    privacyLevelOptions: list[Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                                      "SELF_ONLY"]] | None = None
    _id = field_validator("id")(_prefixed("sa"))


class SeedMedia(_Strict):
    url: str
    kind: Literal["video", "image"]


class SeedContainer(_Strict):
    id: str
    projectId: str
    status: Literal["queued", "processing", "completed", "failed", "canceled"]
    approvalStatus: Literal["not_required", "pending", "approved", "rejected"] = "not_required"
    mediaType: Literal["video", "image", "slideshow"]
    caption: str | None = None
    firstComment: str | None = None
    media: list[SeedMedia] = Field(default_factory=list)
    _id = field_validator("id")(_prefixed("cnt"))


class SeedTrack(e.MusicTrack):
    """The catalog entry exactly as stored, refusing unknown fields."""
    model_config = ConfigDict(extra="forbid")

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if not ids.is_uuid(value):
            raise ValueError("must be a bare UUID")
        return value


class SeedFixture(_Strict):
    organizations: list[SeedOrganization] = Field(default_factory=list)
    users: list[SeedUser] = Field(default_factory=list)
    apiKeys: list[SeedApiKey] = Field(default_factory=list)
    projects: list[SeedProject] = Field(default_factory=list)
    layers: list[SeedLayer] = Field(default_factory=list)
    socialAccounts: list[SeedSocialAccount] = Field(default_factory=list)
    containers: list[SeedContainer] = Field(default_factory=list)
    tiktokMusic: list[SeedTrack] = Field(default_factory=list)


def parse(data: Any) -> SeedFixture:
    if not isinstance(data, dict):
        raise SeedError("seed fixture: the top level must be a JSON object")
    try:
        fixture = SeedFixture.model_validate(data)
    except ValidationError as exc:
        lines = [f"{i['path'] or '(top level)'}: {i['message']}" for i in issues_of(exc)]
        raise SeedError("seed fixture rejected:\n  " + "\n  ".join(lines)) from None
    _check_references(fixture)
    return fixture


def _check_references(f: SeedFixture) -> None:
    problems: list[str] = []
    orgs = {o.id for o in f.organizations}
    users = {u.id: u for u in f.users}
    projects = {p.id: p for p in f.projects}
    layers = {l.id for l in f.layers}

    def need(ok: bool, where: str, what: str) -> None:
        if not ok:
            problems.append(f"{where}: {what}")

    for i, o in enumerate(f.organizations):
        need(o.primaryOperatorUserId is None or o.primaryOperatorUserId in users,
             f"organizations[{i}].primaryOperatorUserId", "unknown user")
    for i, u in enumerate(f.users):
        need(u.organizationId in orgs, f"users[{i}].organizationId", "unknown organization")
    seen_keys: set[str] = set()
    for i, k in enumerate(f.apiKeys):
        need(k.organizationId in orgs, f"apiKeys[{i}].organizationId", "unknown organization")
        need(k.ownerUserId is None or k.ownerUserId in users, f"apiKeys[{i}].ownerUserId", "unknown user")
        key_id = auth.parse_key(k.key).key_id  # type: ignore[union-attr]
        need(key_id not in seen_keys, f"apiKeys[{i}].key", "duplicate key id")
        seen_keys.add(key_id)
    for i, p in enumerate(f.projects):
        need(p.organizationId in orgs, f"projects[{i}].organizationId", "unknown organization")
    for i, l in enumerate(f.layers):
        need(l.projectId in projects, f"layers[{i}].projectId", "unknown project")
    for i, a in enumerate(f.socialAccounts):
        need(a.projectId in projects, f"socialAccounts[{i}].projectId", "unknown project")
        for lid in a.layerIds:
            need(lid in layers, f"socialAccounts[{i}].layerIds", f"unknown layer {lid}")
        need(a.platform == "instagram" or a.instagramAccountType is None,
             f"socialAccounts[{i}].instagramAccountType", "only for instagram accounts")
        need(a.platform == "tiktok" or a.privacyLevelOptions is None,
             f"socialAccounts[{i}].privacyLevelOptions", "only for tiktok accounts")
    for i, c in enumerate(f.containers):
        need(c.projectId in projects, f"containers[{i}].projectId", "unknown project")
    for kind, entries in (("organizations", f.organizations), ("users", f.users), ("projects", f.projects),
                          ("layers", f.layers), ("socialAccounts", f.socialAccounts),
                          ("containers", f.containers), ("tiktokMusic", f.tiktokMusic)):
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            need(entry.id not in seen, f"{kind}[{i}].id", "duplicate id")
            seen.add(entry.id)
    if problems:
        raise SeedError("seed fixture rejected:\n  " + "\n  ".join(problems))


def load(fixture: SeedFixture, table: Table, vault: TokenVault | None) -> dict[str, int]:
    """Write the fixture. Returns how many entities of each kind were written."""
    now = clock.to_storage(clock.now())
    orgs = {o.id: o for o in fixture.organizations}
    projects = {p.id: p for p in fixture.projects}
    written: dict[str, int] = {}

    def put(kind: str, entity: BaseModel, extra: dict[str, Any] | None = None) -> None:
        table.put({**items.to_item(entity), **(extra or {})})
        written[kind] = written.get(kind, 0) + 1

    for o in fixture.organizations:
        put("organizations", e.Organization(**o.model_dump()))
    for u in fixture.users:
        put("users", e.User(**u.model_dump()))
    for k in fixture.apiKeys:
        parsed = auth.parse_key(k.key)
        assert parsed is not None
        org = orgs[k.organizationId]
        key = e.ApiKey(keyId=parsed.key_id, env=parsed.env, secretHash=auth.hash_secret(parsed.secret),
                       organizationId=k.organizationId, ownerUserId=k.ownerUserId, scopes=k.scopes,
                       revoked=k.revoked)
        # Tier and name are baked into the key so auth is one read.
        put("apiKeys", key, {"tier": org.tier, "organizationName": org.name})
    for p in fixture.projects:
        put("projects", e.Project(**p.model_dump()))
    for l in fixture.layers:
        put("layers", e.Layer(**l.model_dump()))
    for a in fixture.socialAccounts:
        data = a.model_dump(exclude={"credentials"})
        data["organizationId"] = projects[a.projectId].organizationId
        data["connectedAt"] = a.connectedAt or now
        if a.credentials is not None:
            data["platformUserId"] = a.credentials.platformUserId
            data["tokenExpiresAt"] = a.credentials.expiresAt
        put("socialAccounts", e.SocialAccount(**data))
        if a.credentials is not None and vault is not None:
            c = a.credentials
            vault.put(a.id, Credentials(c.accessToken, c.refreshToken, c.expiresAt, c.platformUserId))
    for c in fixture.containers:
        data = c.model_dump()
        data["organizationId"] = projects[c.projectId].organizationId
        data["createdAt"] = now
        put("containers", e.Container(**data))
    for t in fixture.tiktokMusic:
        put("tiktokMusic", e.MusicTrack(**t.model_dump()))
    return written


def load_file(path: str, table: Table, vault: TokenVault | None) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SeedError(f"seed fixture {path}: {exc}") from None
    return load(parse(data), table, vault)
