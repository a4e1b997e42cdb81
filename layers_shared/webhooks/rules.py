"""The pure rules of webhooks.md: the event catalog, URL shape, body limits,
the retry ladder and the auto-pause threshold. No I/O here."""
from __future__ import annotations

import ipaddress
import os
import uuid
from typing import Any
from urllib.parse import urlsplit

from layers_shared import errors, ids

EVENT_TYPES = ("post.scheduled", "post.published", "post.failed", "post.canceled", "content.approved",
               "content.rejected", "social_account.needs_reauth", "test.ping")
MAX_ENDPOINTS = 20
MAX_EVENTS = 50
MAX_URL = 2048
MAX_DESCRIPTION = 500
MAX_METADATA = 20
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_ERROR_MESSAGE = 500
ENDPOINT_STATUSES = ("active", "paused", "auto_paused")
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed", "abandoned")
FINISHED = ("delivered", "failed", "abandoned")
AUTO_PAUSE_AFTER = 20            # failed attempts in a row, across an endpoint's deliveries
ROTATION_OVERLAP_SECONDS = 24 * 3600
KEEP_SECONDS = 30 * 24 * 3600    # deliveries, their history and outbox items (TTL)
TIMEOUT_SECONDS = 10.0
# Waits before attempts 2..8, after the previous failure (attempt 1 leaves at once).
LADDER = (30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)
LADDER_ENV = "WEBHOOK_RETRY_LADDER_SECONDS"  # tests shorten it; a deployment never sets it
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_DELIVERY_NAMESPACE = uuid.UUID("5a7c3c64-2f0e-4a63-9b7e-0d7b1f1c9e42")


def ladder() -> tuple[float, ...]:
    raw = os.environ.get(LADDER_ENV)
    if not raw:
        return LADDER
    waits = tuple(float(x) for x in raw.split(","))
    if len(waits) != len(LADDER) or any(w < 0 for w in waits):
        raise ValueError(f"{LADDER_ENV} needs {len(LADDER)} non-negative waits")
    return waits


def max_attempts() -> int:
    return len(LADDER) + 1


def next_wait(attempts_made: int) -> float | None:
    """Seconds until the next attempt after `attempts_made` failed ones; None when spent."""
    waits = ladder()
    if attempts_made < 1 or attempts_made > len(waits):
        return None
    return waits[attempts_made - 1]


# -- ids -------------------------------------------------------------------------------

def fanout_delivery_id(event_id: str, endpoint_id: str) -> str:
    """One delivery per (event, endpoint), however often the stream hands the event over."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{event_id}|{endpoint_id}"))


def path_uuid(value: str | None) -> str | None:
    """Endpoint and delivery ids are bare lowercase UUIDs; anything else names nothing."""
    return value.lower() if ids.is_uuid(value) else None


# -- URLs ------------------------------------------------------------------------------

def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def loopback_allowed(url: str, env: str) -> bool:
    """Test keys may deliver to the developer's own machine (that is how the
    local stack and its tests deliver): http or https, any port."""
    return env == "test" and url_host(url) in LOOPBACK_HOSTS


def url_issues(url: Any, env: str, path: str = "url") -> list[dict[str, str]]:
    """Everything wrong with the shape of `url` (the address check is in ssrf.py)."""
    if not isinstance(url, str):
        return [errors.issue(path, "invalid_type", "must be a string")]
    if len(url) > MAX_URL:
        return [errors.issue(path, "too_long", f"at most {MAX_URL} characters")]
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return [errors.issue(path, "invalid_url", "must not contain whitespace or control characters")]
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError:
        return [errors.issue(path, "invalid_url", "not a valid absolute URL")]
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [errors.issue(path, "invalid_url", "must be an absolute http(s) URL")]
    found = []
    if "@" in parts.netloc:
        found.append(errors.issue(path, "user_info_not_allowed", "must not contain user info"))
    if "#" in url:
        found.append(errors.issue(path, "fragment_not_allowed", "must not contain a fragment"))
    if loopback_allowed(url, env):
        return found
    if parts.scheme != "https":
        found.append(errors.issue(path, "https_required", "must use https"))
    if is_ip_literal(parts.hostname):
        found.append(errors.issue(path, "ip_literal_not_allowed", "the host must be a name, not an IP address"))
    return found


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def is_public(address: str) -> bool:
    """Public unicast only: never private, loopback, link-local (169.254.169.254),
    multicast, reserved, unspecified or shared (CGNAT) space, whatever the notation."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public(str(mapped))
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


# -- events and metadata ---------------------------------------------------------------

def event_issues(events: Any, path: str = "events") -> list[dict[str, str]]:
    if not isinstance(events, list):
        return [errors.issue(path, "invalid_type", "must be an array of event names")]
    if not 1 <= len(events) <= MAX_EVENTS:
        return [errors.issue(path, "too_few" if not events else "too_many", f"1..{MAX_EVENTS} event names")]
    found, seen = [], set()
    for i, name in enumerate(events):
        if not isinstance(name, str) or name not in EVENT_TYPES:
            found.append(errors.issue(f"{path}[{i}]", "unknown_event",
                                      "not an event type: " + ", ".join(EVENT_TYPES)))
        elif name in seen:
            found.append(errors.issue(f"{path}[{i}]", "duplicate", f"{name} is listed twice"))
        else:
            seen.add(name)
    return found


def metadata_issues(metadata: Any, *, patch: bool, path: str = "metadata") -> list[dict[str, str]]:
    """Create: an object of string values. Patch: a `null` value removes its key."""
    if not isinstance(metadata, dict):
        return [errors.issue(path, "invalid_type", "must be an object of strings")]
    found = []
    if len(metadata) > MAX_METADATA:
        found.append(errors.issue(path, "too_many", f"at most {MAX_METADATA} keys"))
    for k, v in metadata.items():
        where = f"{path}.{k}"
        if not k or len(k) > MAX_METADATA_KEY:
            found.append(errors.issue(where, "invalid_key", f"keys are 1..{MAX_METADATA_KEY} characters"))
        if v is None and patch:
            continue
        if not isinstance(v, str):
            found.append(errors.issue(where, "invalid_type", "must be a string"))
        elif len(v) > MAX_METADATA_VALUE:
            found.append(errors.issue(where, "too_long", f"at most {MAX_METADATA_VALUE} characters"))
    return found


def merged_metadata(current: dict[str, str], patch: dict[str, str | None]) -> dict[str, str]:
    out = dict(current)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def description_issues(value: Any, path: str = "description") -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, str):
        return [errors.issue(path, "invalid_type", "must be a string or null")]
    if len(value) > MAX_DESCRIPTION:
        return [errors.issue(path, "too_long", f"at most {MAX_DESCRIPTION} characters")]
    return []


def clip_error(message: str) -> str:
    return message[:MAX_ERROR_MESSAGE]
