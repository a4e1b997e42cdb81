"""Where a webhook may go: a resolver port (the real `socket.getaddrinfo`, or
a test double) and the check run at creation and again before every attempt,
so a name that starts resolving to a private address (DNS rebinding) is
refused at delivery too. The attempt then connects to the address that was
checked, never to a second lookup's answer."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from layers_shared.webhooks import rules


class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to; OSError when it does not resolve."""


class SocketResolver:
    def resolve(self, host: str, port: int) -> list[str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class StaticResolver:
    """A test double: names -> addresses; unknown names do not resolve."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = {k.lower(): v for k, v in table.items()}
        self.calls: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host.lower() not in self.table:
            raise OSError(f"{host} does not resolve")
        return list(self.table[host.lower()])


_resolver: Resolver = SocketResolver()


def use(resolver: Resolver | None) -> None:
    """Swap the resolver (tests); None restores the real one."""
    global _resolver
    _resolver = resolver or SocketResolver()


def current() -> Resolver:
    return _resolver


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    address: str | None  # the checked address to connect to; None: loopback of a test key, by name


class Refused(Exception):
    """The URL may not be called now; the message says why (safe to show the partner)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def check(url: str, env: str) -> Target:
    """The address to connect to, or Refused."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if rules.loopback_allowed(url, env):
        return Target(host, port, None)
    problems = rules.url_issues(url, env)
    if problems:
        raise Refused(problems[0]["code"], problems[0]["message"])
    try:
        addresses = _resolver.resolve(host, port)
    except (OSError, UnicodeError):
        raise Refused("unresolvable_host", f"{host} does not resolve") from None
    if not addresses:
        raise Refused("unresolvable_host", f"{host} does not resolve")
    forbidden = [a for a in addresses if not rules.is_public(a)]
    if forbidden:
        raise Refused("forbidden_address", f"{host} resolves to a non-public address")
    return Target(host, port, addresses[0])
