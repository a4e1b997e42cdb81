"""The SDK's webhooks: endpoint management over the local stack, and
verify_signature with the runnable receiver example."""
from __future__ import annotations

import hashlib
import hmac
import importlib.util
import threading
import time

import pytest

import layers
from layers import Layers
from tests import support

ROOT = support.ROOT


@pytest.fixture(scope="module")
def client(stack) -> Layers:
    return Layers(support.KEY, base_url=stack.base_url, max_retries=0)


def _example():
    spec = importlib.util.spec_from_file_location("webhook_receiver", ROOT / "sdk" / "examples" / "webhook_receiver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _header(secret: str, stamp: int, body: bytes) -> str:
    return f"t={stamp},v1=" + hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_verify_signature():
    body, now = b'{"id":"evt_1"}', 1_700_000_000
    header = _header("whsec_a", now, body)
    assert layers.webhooks.verify_signature("whsec_a", header, body, now=now)
    assert layers.webhooks.verify_signature(["whsec_b", "whsec_a"], header, body.decode(), now=now + 299)
    assert not layers.webhooks.verify_signature("whsec_a", header, body, now=now + 301)  # tolerance=300
    assert not layers.webhooks.verify_signature("whsec_a", header, body, tolerance=10, now=now + 11)
    assert not layers.webhooks.verify_signature("whsec_b", header, body, now=now)
    assert not layers.webhooks.verify_signature("whsec_a", header, body + b" ", now=now)
    assert not layers.webhooks.verify_signature("whsec_a", None, body, now=now)
    assert not layers.webhooks.verify_signature("whsec_a", "t=abc,v1=00", body, now=now)
    both = header + ",v1=" + _header("whsec_old", now, body).split("v1=")[1]
    assert layers.webhooks.verify_signature("whsec_old", both, body, now=now)


def test_endpoint_management_and_the_example_receiver(client):
    received: list[dict] = []
    module = _example()
    # The secret exists once the endpoint does: create it first, then start the receiver and point the endpoint at it.
    created = client.webhooks.create_endpoint("http://127.0.0.1:9/unused", ["post.failed"], description="sdk",
                                              metadata={"a": "1"})
    endpoint, secret = created["endpoint"], created["signingSecret"]
    server = module.make_server([secret], 0, on_event=received.append)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/layers"
        assert client.webhooks.update_endpoint(endpoint["id"], url=url, metadata={"a": None})["metadata"] == {}
        assert client.webhooks.get_endpoint(endpoint["id"])["url"] == url
        assert endpoint["id"] in {e["id"] for e in client.webhooks.list_endpoints(limit=5)}
        ping = client.webhooks.test(endpoint["id"])
        deadline = time.time() + 5
        while not received and time.time() < deadline:
            time.sleep(0.05)
        assert received and received[0]["id"] == ping["eventId"] and received[0]["type"] == "test.ping"
        time.sleep(0.3)
        (delivery,) = list(client.webhooks.list_deliveries(endpoint["id"], status="delivered"))
        assert delivery["id"] == ping["deliveryId"] and delivery["lastResponseStatus"] == 204
        replay = client.webhooks.replay(ping["deliveryId"])
        assert replay["originalDeliveryId"] == ping["deliveryId"]
        rotated = client.webhooks.rotate_secret(endpoint["id"])
        assert rotated["signingSecret"].startswith("whsec_") and rotated["signingSecret"] != secret
        assert client.webhooks.delete_endpoint(endpoint["id"]) == {"id": endpoint["id"], "deleted": True}
        with pytest.raises(layers.errors.LayersError) as gone:
            client.webhooks.get_endpoint(endpoint["id"])
        assert gone.value.status == 404
    finally:
        server.shutdown()
        server.server_close()
