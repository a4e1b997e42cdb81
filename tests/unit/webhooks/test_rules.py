"""The pure rules of webhooks.md: ladder, URL shape, addresses, signatures, ids."""
from __future__ import annotations

import hashlib
import hmac
import re

import pytest

from layers_shared.webhooks import outbox, rules, signing, ssrf


def test_the_ladder_is_at_once_then_30s_1m_5m_15m_1h_6h_24h(monkeypatch):
    monkeypatch.delenv(rules.LADDER_ENV, raising=False)
    assert rules.LADDER == (30, 60, 5 * 60, 15 * 60, 3600, 6 * 3600, 24 * 3600)
    assert rules.max_attempts() == 8
    assert [rules.next_wait(n) for n in range(1, 9)] == [30, 60, 300, 900, 3600, 21600, 86400, None]


def test_a_shortened_ladder_must_have_every_rung(monkeypatch):
    monkeypatch.setenv(rules.LADDER_ENV, "1,2,3,4,5,6,7")
    assert rules.next_wait(1) == 1 and rules.next_wait(7) == 7 and rules.next_wait(8) is None
    monkeypatch.setenv(rules.LADDER_ENV, "1,2")
    with pytest.raises(ValueError):
        rules.ladder()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1",
                                     "::", "fe80::1", "fd12::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
                                     "2002:a00:1::", "not-an-ip"])
def test_non_public_addresses(address):
    assert not rules.is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946",
                                     "::ffff:93.184.216.34"])
def test_public_addresses(address):
    assert rules.is_public(address)


@pytest.mark.parametrize("url, env, codes", [
    ("https://hooks.example/x?a=1", "live", []),
    ("http://localhost:3000/x", "test", []),
    ("http://127.0.0.1/x", "test", []),
    ("http://[::1]:9/x", "test", []),
    ("http://localhost:3000/x", "live", ["https_required"]),
    ("https://127.0.0.1/x", "live", ["ip_literal_not_allowed"]),
    ("https://[::1]/x", "live", ["ip_literal_not_allowed"]),
    ("https://10.0.0.1/x", "test", ["ip_literal_not_allowed"]),
    ("http://hooks.example/x", "test", ["https_required"]),
    ("https://a@hooks.example/x", "live", ["user_info_not_allowed"]),
    ("https://hooks.example/x#f", "live", ["fragment_not_allowed"]),
    ("https://hooks.example:99999/x", "live", ["invalid_url"]),
    ("https://hooks.example/a b", "live", ["invalid_url"]),
    ("mailto:a@b.c", "live", ["invalid_url"]),
    ("https://hooks.example/" + "a" * 2030, "live", ["too_long"]),
])
def test_url_shape(url, env, codes):
    assert [i["code"] for i in rules.url_issues(url, env)] == codes


def test_the_check_resolves_every_time_and_pins_the_checked_address():
    resolver = ssrf.StaticResolver({"hooks.example": ["93.184.216.34"]})
    ssrf.use(resolver)
    try:
        target = ssrf.check("https://hooks.example:8443/x", "live")
        assert (target.host, target.port, target.address) == ("hooks.example", 8443, "93.184.216.34")
        resolver.table["hooks.example"] = ["93.184.216.34", "10.0.0.7"]
        with pytest.raises(ssrf.Refused) as refused:
            ssrf.check("https://hooks.example/x", "live")
        assert refused.value.code == "forbidden_address"
        with pytest.raises(ssrf.Refused) as refused:
            ssrf.check("https://nowhere.example/x", "live")
        assert refused.value.code == "unresolvable_host"
        assert resolver.calls == ["hooks.example", "hooks.example", "nowhere.example"]
        # A test key's loopback is allowed by name, without a lookup.
        assert ssrf.check("http://localhost:3000/x", "test").address is None
        assert len(resolver.calls) == 3
    finally:
        ssrf.use(None)


def test_signature_is_hmac_sha256_of_t_dot_body_with_the_newest_secret_first():
    body = b'{"id":"evt_1"}'
    header = signing.header(["whsec_new", "whsec_old"], 1700000000, body)
    expected = [hmac.new(s.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
                for s in ("whsec_new", "whsec_old")]
    assert header == f"t=1700000000,v1={expected[0]},v1={expected[1]}"
    assert signing.verify("whsec_old", header, body, now=1700000100)
    assert not signing.verify("whsec_other", header, body, now=1700000100)
    assert not signing.verify("whsec_new", header, body + b" ", now=1700000100)
    assert not signing.verify("whsec_new", header, body, now=1700000301)  # outside the tolerance


def test_secrets_are_whsec_and_32_random_bytes():
    secrets = {signing.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", s) for s in secrets)


def test_event_ids_are_ulids_and_delivery_ids_are_derived_from_event_and_endpoint():
    event_id = outbox.new_event_id()
    assert re.fullmatch(r"evt_[0-9A-HJKMNP-TV-Z]{26}", event_id)
    a = rules.fanout_delivery_id(event_id, "e1")
    assert a == rules.fanout_delivery_id(event_id, "e1") != rules.fanout_delivery_id(event_id, "e2")
    assert rules.path_uuid(a.upper()) == a and rules.path_uuid("sp_" + a) is None


def test_metadata_patch_merges_and_null_removes():
    assert rules.merged_metadata({"a": "1", "b": "2"}, {"a": None, "c": "3"}) == {"b": "2", "c": "3"}
    assert rules.metadata_issues({"a": None}, patch=True) == []
    assert [i["code"] for i in rules.metadata_issues({"a": None}, patch=False)] == ["invalid_type"]
