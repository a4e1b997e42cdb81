"""One KMS Decrypt per token version per warm container (issue 13): the
credentials item is read every time, so a rotated token is seen at once."""
from __future__ import annotations

import json

import pytest

from layers_shared import aws
from layers_shared.platforms.port import Credentials
from layers_shared.secrets import vault as vault_module
from layers_shared.secrets.vault import KmsTokenVault


class Items:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict] = {}
        self.gets = 0

    def put(self, item, **_):
        self.rows[(item["PK"], item["SK"])] = dict(item)

    def get(self, key, consistent=False):
        self.gets += 1
        row = self.rows.get((key["PK"], key["SK"]))
        return dict(row) if row else None


class Kms:
    """Reversible 'encryption' bound to the context, counting decrypts."""

    def __init__(self) -> None:
        self.decrypts = 0
        self.versions = 0

    def encrypt(self, KeyId, Plaintext, EncryptionContext):
        self.versions += 1
        wrapped = json.dumps({"ctx": EncryptionContext, "v": self.versions, "p": Plaintext.decode()})
        return {"CiphertextBlob": wrapped.encode()}

    def decrypt(self, CiphertextBlob, EncryptionContext):
        self.decrypts += 1
        data = json.loads(CiphertextBlob)
        assert data["ctx"] == EncryptionContext
        return {"Plaintext": data["p"].encode()}


@pytest.fixture
def kms(monkeypatch):
    stub = Kms()
    monkeypatch.setitem(aws._clients, "kms", stub)
    vault_module.forget_decrypted()
    yield stub
    vault_module.forget_decrypted()


def test_a_warm_container_decrypts_a_token_once_and_a_rotated_one_once_more(kms):
    table = Items()
    vault = KmsTokenVault(table, key_id="k")
    vault.put("sa_1", Credentials(access_token="act.1", refresh_token="rft.1"))
    assert [vault.get("sa_1").access_token for _ in range(5)] == ["act.1"] * 5
    assert kms.decrypts == 1 and table.gets == 5              # the item is still read each time
    KmsTokenVault(table, key_id="k").put("sa_1", Credentials(access_token="act.2", refresh_token="rft.2"))
    assert vault.get("sa_1").access_token == "act.2"          # a new ciphertext: never a stale token
    assert vault.get("sa_1").access_token == "act.2"
    assert kms.decrypts == 2


def test_the_cache_is_per_account_and_hands_out_copies(kms):
    table = Items()
    vault = KmsTokenVault(table, key_id="k")
    vault.put("sa_1", Credentials(access_token="act.1"))
    vault.put("sa_2", Credentials(access_token="act.2"))
    first = vault.get("sa_1")
    first.access_token = "changed by a caller"
    assert vault.get("sa_1").access_token == "act.1"
    assert vault.get("sa_2").access_token == "act.2"
    assert kms.decrypts == 2


def test_the_cache_is_bounded(kms, monkeypatch):
    monkeypatch.setattr(vault_module, "_DECRYPTED_MAX", 3)
    table = Items()
    vault = KmsTokenVault(table, key_id="k")
    for i in range(5):
        vault.put(f"sa_{i}", Credentials(access_token=f"act.{i}"))
        vault.get(f"sa_{i}")
    assert len(vault_module._DECRYPTED) == 3
