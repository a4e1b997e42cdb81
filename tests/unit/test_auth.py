import pytest

from layers_shared import auth, errors


def test_key_format_allows_underscores_and_dashes_in_the_secret():
    parsed = auth.parse_key("lp_live_ABCDEFGHIJKLMNOP_se_cr-et_with_parts")
    assert parsed == auth.ParsedKey("live", "ABCDEFGHIJKLMNOP", "se_cr-et_with_parts")


@pytest.mark.parametrize("raw", [
    "", "lp_prod_ABCDEFGHIJKLMNOP_secret", "lp_live_abcdefghijklmnop_secret", "lp_live_ABCDEFGHIJKLMNO_secret",
    "lp_live_ABCDEFGHIJKLMNOP_", "sk_live_ABCDEFGHIJKLMNOP_secret",
])
def test_malformed_keys_do_not_parse(raw):
    assert auth.parse_key(raw) is None


def test_only_bearer_scheme_is_accepted():
    assert auth.bearer_token({"authorization": "Bearer lp_x"}) == "lp_x"
    assert auth.bearer_token({"authorization": "bearer lp_x"}) == "lp_x"
    assert auth.bearer_token({"authorization": "Basic lp_x"}) is None
    assert auth.bearer_token({"authorization": "Bearer "}) is None
    assert auth.bearer_token({}) is None


def test_the_stored_hash_is_not_the_secret():
    digest = auth.hash_secret("s3cret")
    assert digest != "s3cret" and len(digest) == 64


def _principal(scopes):
    return auth.Principal("K", "test", "org_x", None, tuple(scopes))


def test_scopes_deny_by_default_and_do_not_imply_each_other():
    with pytest.raises(errors.ApiError) as err:
        auth.require_scope(_principal([]), "publish:read")
    assert err.value.code == "FORBIDDEN_SCOPE" and err.value.details == {"requiredScope": "publish:read"}
    with pytest.raises(errors.ApiError):
        auth.require_scope(_principal(["publish:write"]), "publish:read")
    auth.require_scope(_principal(["*"]), "content:approve")
    auth.require_scope(_principal([]), None)  # whoami: any valid key
