"""The device handoff's phone rules: E.164 and the resolution order."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from layers_shared.domain import phone
from layers_shared.models.entities import User

ORG = "org_11111111-1111-4111-8111-111111111111"


def owner(number: str | None, verified: bool, org: str = ORG) -> User:
    return User(id="usr_1", organizationId=org, phoneNumber=number, phoneVerified=verified)


@pytest.mark.parametrize("value", ["+15551234567", "+4915112345678", "+12345678", "+123456789012345"])
def test_e164_accepts(value):
    assert phone.is_e164(value) and phone.format_issue(value) is None


@pytest.mark.parametrize("value", ["", "15551234567", "+0123456789", "+1234567", "+1234567890123456",
                                   "+1 555 123 4567", "+1-555-123-4567", "+15551234567\n", " +15551234567",
                                   "+１５５５１２３４５６７", "+1５５５１２３４５６７", "+1555١٢٣٤٥٦٧", 15551234567, ["+15551234567"]])
def test_e164_refuses(value):
    assert not phone.is_e164(value)
    assert phone.format_issue(value)


def test_null_is_not_malformed_it_means_omitted():
    assert phone.format_issue(None) is None


# \A\+[1-9][0-9]{7,14}\Z, built directly: st.from_regex drew the same strings 4x slower.
e164_shapes = st.builds(lambda first, rest: f"+{first}{rest}", st.integers(min_value=1, max_value=9),
                        st.text(alphabet="0123456789", min_size=7, max_size=14))


@given(e164_shapes)
def test_every_e164_shape_passes(value):
    assert phone.is_e164(value)


def test_explicit_wins_over_any_owner():
    found = phone.resolve("+15550001111", owner(None, False), ORG)
    assert found == phone.Resolved("+15550001111", "explicit")


def test_owner_verified_phone_is_the_fallback():
    assert phone.resolve(None, owner("+15551234567", True), ORG) == phone.Resolved("+15551234567", "owner")


@pytest.mark.parametrize("who,reason", [
    (None, phone.PHONE_REQUIRED),                                   # no owner on the key
    (owner(None, False), phone.PHONE_REQUIRED),                     # owner without phone
    (owner(None, True), phone.PHONE_REQUIRED),
    (owner("garbage", True), phone.PHONE_REQUIRED),                 # a stored number we cannot text
    (owner("+15551234567", True, org="org_other"), phone.PHONE_REQUIRED),
    (owner("+15551234567", False), phone.OWNER_PHONE_UNVERIFIED),
])
def test_unresolved_reasons(who, reason):
    found = phone.resolve(None, who, ORG)
    assert isinstance(found, phone.Unresolved) and found.reason == reason and found.message


def test_last4():
    assert phone.last4("+15551234567") == "4567"
