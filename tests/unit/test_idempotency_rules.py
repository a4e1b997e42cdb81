import pytest

from layers_shared import errors, idempotency


def test_fingerprint_ignores_key_order_and_whitespace():
    a = idempotency.fingerprint({"containerId": "c"}, {"b": 1, "a": [1, {"y": 2, "x": 1}]})
    b = idempotency.fingerprint({"containerId": "c"}, {"a": [1, {"x": 1, "y": 2}], "b": 1})
    assert a == b


def test_fingerprint_covers_path_parameters():
    body = {"a": 1}
    assert idempotency.fingerprint({"containerId": "c1"}, body) != idempotency.fingerprint({"containerId": "c2"}, body)


@pytest.mark.parametrize("status,stored", [(200, True), (202, True), (404, True), (409, True), (422, True),
                                           (401, False), (403, False), (429, False), (500, False), (502, False)])
def test_only_final_answers_are_stored(status, stored):
    assert idempotency.is_storable(status) is stored


@pytest.mark.parametrize("bad", ["", "x" * 256, "tab\there", "new\nline"])
def test_bad_keys_are_422(bad):
    with pytest.raises(errors.ApiError) as err:
        idempotency.validate_key(bad)
    assert err.value.status == 422 and err.value.details["issues"][0]["path"] == "headers.Idempotency-Key"


def test_reasonable_keys_pass():
    assert idempotency.validate_key("8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999") is not None
    assert idempotency.validate_key("x" * 255) == "x" * 255
    assert idempotency.validate_key(None) is None


@pytest.mark.parametrize("reason,stored", [("CONCURRENT_UPDATE", False), ("IDEMPOTENCY_IN_PROGRESS", False),
                                           ("NOT_QUEUED", True), ("CONTENT_NOT_READY", True)])
def test_a_409_that_says_retry_is_not_stored(reason, stored):
    body = errors.conflict(reason, "m").body("req_x")
    assert idempotency.is_storable(409, body) is stored
