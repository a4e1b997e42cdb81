"""Platform tokens, encrypted with KMS before they touch the table.

The ciphertext is bound to the account by the encryption context, so a blob
copied onto another account's item does not decrypt. Tokens never appear in
logs or reprs (see `Credentials.__repr__`).
"""
from __future__ import annotations

import base64
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
        plain = aws.client("kms").decrypt(CiphertextBlob=base64.b64decode(item["ciphertext"]),
                                          EncryptionContext={"socialAccountId": account_id})["Plaintext"]
        return _from_json(plain.decode())


class InMemoryTokenVault:
    def __init__(self) -> None:
        self.saved: dict[str, Credentials] = {}

    def put(self, account_id: str, credentials: Credentials) -> None:
        self.saved[account_id] = credentials

    def get(self, account_id: str) -> Credentials | None:
        return self.saved.get(account_id)
