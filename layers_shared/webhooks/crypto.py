"""Signing secrets encrypted with KMS before they touch the table, like
platform tokens (layers_shared/secrets/vault.py): the encryption context binds
a ciphertext to its endpoint, so a blob copied onto another endpoint does not
decrypt. Plaintext secrets are never logged and never stored."""
from __future__ import annotations

import base64
import os

from layers_shared import aws

KEY_ENV = "WEBHOOK_KMS_KEY_ID"


def encrypt(endpoint_id: str, secret: str) -> str:
    blob = aws.client("kms").encrypt(KeyId=os.environ[KEY_ENV], Plaintext=secret.encode(),
                                     EncryptionContext={"webhookEndpointId": endpoint_id})["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def decrypt(endpoint_id: str, ciphertext: str) -> str:
    plain = aws.client("kms").decrypt(CiphertextBlob=base64.b64decode(ciphertext),
                                      EncryptionContext={"webhookEndpointId": endpoint_id})["Plaintext"]
    return plain.decode()
