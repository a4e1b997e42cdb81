"""`/docs` renders every operation of docs/openapi.json in a real browser
(headless Debian Chromium), with no network beyond the local stack: Swagger
UI's assets come from the pinned package, not a CDN."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html import unescape

import pytest

from tests.support import ROOT

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _chromium() -> str | None:
    """`make test` installs it (Makefile: chromium); a bare pytest run tries the same."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=900)
    return shutil.which("chromium")


def _render(browser: str, url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        # The background-networking flags: this machine refuses the connections Chromium
        # makes on its own, and the page must render without any of them.
        out = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_docs_page_renders_every_operation_offline(stack):
    browser = _chromium()
    if browser is None and os.environ.get("CI"):
        pytest.fail("CI must run this check: `make test` installs Debian's chromium (Makefile: chromium)")
    if browser is None:
        pytest.skip("no chromium and it could not be installed (not root, or no apt-get): `make test` installs it")
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    expected = {(method.upper(), path) for path, item in document["paths"].items()
                for method in item if method in METHODS}
    assert expected

    dom = _render(browser, stack.base_url + "/docs")

    # Swagger UI writes one block per operation: its method and its path (data-path).
    rendered = set()
    for block in re.finditer(r'class="opblock-summary-method"[^>]*>([A-Z]+)<.*?data-path="([^"]+)"', dom, re.S):
        rendered.add((block.group(1), unescape(block.group(2))))
    assert rendered == expected, f"missing: {sorted(expected - rendered)}; unexpected: {sorted(rendered - expected)}"
    assert "cdn." not in dom and "https://unpkg" not in dom
