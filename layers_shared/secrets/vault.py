"""Platform tokens, encrypted with KMS before they touch the table.

The ciphertext is bound to the account by the encryption context, so a blob
copied onto another account's item does not decrypt. Tokens never appear in
logs or reprs (see `Credentials.__repr__`).
"""
from __future__ import annotations

import base64
from dataclasses import replace
import json
import os
from typing import Protocol

from layers_shared import aws
from layers_shared.platforms.port import Credentials
from layers_shared.store import keys
from layers_shared.store.table import Table


class TokenVault(Protocol):
    def put(self, account_id: str, credentials: Credentials) -> None: ...

    def get(self, account_id: str) -> Credentials | None: ...


def _to_json(c: Credentials) -> str:
    return json.dumps({"accessToken": c.access_token, "refreshToken": c.refresh_token,
                       "expiresAt": c.expires_at, "platformUserId": c.platform_user_id})


def _from_json(text: str) -> Credentials:
    data = json.loads(text)
    return Credentials(access_token=data["accessToken"], refresh_token=data.get("refreshToken"),
                       expires_at=data.get("expiresAt"), platform_user_id=data.get("platformUserId"))


# Decrypted credentials by (account, ciphertext), for the life of a warm
# container: the item is still read on every step (so a rotated token is seen
# at once: a new ciphertext is a new key here), KMS is asked once per token
# version instead of once per step (docs/adr/0090). Bounded: a container sees
# the accounts of its own batches only.
_DECRYPTED: dict[tuple[str, str], Credentials] = {}
_DECRYPTED_MAX = 5000


def forget_decrypted() -> None:
    _DECRYPTED.clear()


class KmsTokenVault:
    def __init__(self, table: Table, key_id: str | None = None):
        self.table = table
        self.key_id = key_id or os.environ.get("TOKEN_KMS_KEY_ID", "")

    def put(self, account_id: str, credentials: Credentials) -> None:
        blob = aws.client("kms").encrypt(KeyId=self.key_id, Plaintext=_to_json(credentials).encode(),
                                         EncryptionContext={"socialAccountId": account_id})["CiphertextBlob"]
        self.table.put({**keys.credentials(account_id), "type": "CRED",
                        "ciphertext": base64.b64encode(blob).decode()})

    def get(self, account_id: str) -> Credentials | None:
        item = self.table.get(keys.credentials(account_id))
        if not item:
            return None
        cached = _DECRYPTED.get((account_id, item["ciphertext"]))
        if cached is not None:
            return replace(cached)  # a copy: a caller's change never reaches the cache
        plain = aws.client("kms").decrypt(CiphertextBlob=base64.b64decode(item["ciphertext"]),
                                          EncryptionContext={"socialAccountId": account_id})["Plaintext"]
        credentials = _from_json(plain.decode())
        if len(_DECRYPTED) >= _DECRYPTED_MAX:
            _DECRYPTED.pop(next(iter(_DECRYPTED)))  # the oldest entry
        _DECRYPTED[(account_id, item["ciphertext"])] = credentials
        return replace(credentials)


class InMemoryTokenVault:
    def __init__(self) -> None:
        self.saved: dict[str, Credentials] = {}

    def put(self, account_id: str, credentials: Credentials) -> None:
        self.saved[account_id] = credentials

    def get(self, account_id: str) -> Credentials | None:
        return self.saved.get(account_id)
