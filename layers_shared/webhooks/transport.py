"""One POST to a webhook URL: 10 s in all, no redirects, connected to the
address the SSRF check approved (a second DNS answer is never used).

http.client instead of the shared urllib3 client: it never follows
redirects, and its connection can be pointed at the checked address while TLS
still verifies the certificate for the URL's host name."""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from layers_shared.webhooks.ssrf import Target

USER_AGENT = "Layers-Webhooks/1"
_TLS = ssl.create_default_context()


@dataclass
class Answer:
    status: int | None
    error: str | None
    ms: float


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=_TLS)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address or self.host, self.port), self.timeout)
        self.sock = _TLS.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address or self.host, self.port), self.timeout)


def post(url: str, target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    started = time.monotonic()
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = (_PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP)(target, timeout)
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        # The whole exchange, not each socket read, is bounded by `timeout`.
        connection.sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
        response = connection.getresponse()
        response.read(64 * 1024)  # the receiver's body is not kept
        return Answer(response.status, None, _ms(started))
    except socket.timeout:
        return Answer(None, f"timed out after {timeout:g} s", _ms(started))
    except ssl.SSLError as exc:
        return Answer(None, f"TLS error: {exc.reason or type(exc).__name__}", _ms(started))
    except OSError as exc:
        return Answer(None, f"connection failed: {type(exc).__name__}", _ms(started))
    except http.client.HTTPException as exc:
        return Answer(None, f"bad HTTP answer: {type(exc).__name__}", _ms(started))
    finally:
        connection.close()


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
