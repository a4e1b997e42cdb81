"""Test worlds: a local stack (moto + the default fixture) served over HTTP."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Generous limits so that functional tests never trip the rate limiter; the
# rate-limit tests set their own.
os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# moto reads a whole partition per Query: fewer work-queue shards keep the
# fan-out and sweeper tests fast (the shard count changes no rule; 32 deployed).
os.environ.setdefault("WORK_QUEUE_SHARDS", "4")


def _install_test_configuration() -> None:
    """What template.yaml gives the deployed functions, as explicit test values,
    so that a handler imported outside a local stack starts (layers_shared/settings.py
    refuses to otherwise). The local stack overwrites them with its own when it
    starts; secrets are plain local stand-ins, never a secret's ARN."""
    from local import publisher_loop

    for name, value in publisher_loop.standalone_environment().items():
        os.environ.setdefault(name, value)


_install_test_configuration()

from tests.support import Client  # noqa: E402


@pytest.fixture(scope="module")
def stack():
    import local.plugins  # noqa: F401
    from local.server import Stack, serve_in_thread

    world = Stack()
    server, base = serve_in_thread(world)
    world.base_url = base
    yield world
    server.shutdown()
    server.server_close()
    world.stop()


@pytest.fixture(scope="module")
def api(stack) -> Client:
    return Client(stack.base_url)
