"""What `make run` starts, as a real process: plugins loaded (publisher loop,
sandbox deliveries, docs), a scheduled post published within seconds."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import KEY, ROOT, TIKTOK, VIDEO, Client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["local", "local.server"])
def running(request):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", request.param], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = ""
    deadline = time.time() + 60
    while time.time() < deadline and "scheduled-posts/<scheduledPostId>" not in banner:
        line = proc.stdout.readline()
        if not line:
            break
        banner += line
    assert "scheduled-posts/<scheduledPostId>" in banner, banner
    yield f"http://127.0.0.1:{port}", banner
    proc.terminate()
    proc.wait(timeout=10)


def test_the_banner_prints_a_curl_with_the_default_test_key(running):
    _, banner = running
    assert f"Bearer {KEY}" in banner and "/schedule" in banner


def test_local_routes_and_the_publisher_loop_are_running(running):
    base, _ = running
    with urllib.request.urlopen(base + "/_local/sandbox/deliveries") as answer:
        assert answer.status == 200 and "items" in json.loads(answer.read())
    with urllib.request.urlopen(base + "/openapi.json") as answer:
        assert json.loads(answer.read())["openapi"].startswith("3.1")
    api = Client(base)
    when = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post_id = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], when).body["scheduledPostIds"][0]
    deadline = time.time() + 30
    status = None
    while time.time() < deadline:
        status = api.get(f"/v1/scheduled-posts/{post_id}").body["status"]
        if status == "published":
            break
        time.sleep(0.5)
    assert status == "published"
