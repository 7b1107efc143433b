"""Encryption of SSO secrets at rest: AES-256-GCM with a key from the environment.

``PASSPORT_CREDENTIALS_KEY`` holds a urlsafe base64 32-byte key (what
``python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`` prints;
a Fernet key has the same form). Every ciphertext is stored with the key's id, a short hash of
the key, so a rotated key can still read older rows through ``PASSPORT_CREDENTIALS_KEY_PREVIOUS``.

Each secret gets its own random nonce and is bound (as associated data) to the row it belongs to
(district, school year, source, user, application): a ciphertext copied onto another row does
not decrypt. Errors name the variables, never their values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "PASSPORT_CREDENTIALS_KEY"
PREVIOUS_KEY_ENV = "PASSPORT_CREDENTIALS_KEY_PREVIOUS"
NONCE_BYTES = 12
_SEP = b"\x1f"


class CredentialsKeyError(RuntimeError):
    """The key is missing or malformed, or a stored secret cannot be read with the keys given."""


@dataclass(frozen=True)
class SecretKey:
    key_id: str
    aead: AESGCM
    digest_key: bytes  # for change detection: an HMAC of the row's content, never the secret itself


def _load(variable: str, *, required: bool) -> SecretKey | None:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        if required:
            raise CredentialsKeyError(
                f"{variable} is not set: SSO credentials are encrypted at rest with a key from this environment "
                "variable (a urlsafe base64 32-byte key, e.g. from "
                "`python -c \"import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())\"`)")
        return None
    try:
        key = base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        raise CredentialsKeyError(f"{variable} is not a valid key: expected urlsafe base64 of exactly 32 bytes")
    key_id = hashlib.sha256(b"passport-credentials-key-id" + key).hexdigest()[:12]
    digest_key = hmac.digest(key, b"passport-credentials-digest", "sha256")
    return SecretKey(key_id, AESGCM(key), digest_key)


def current_key() -> SecretKey:
    """The key new secrets are encrypted with; raises naming the variable when unusable."""
    return _load(KEY_ENV, required=True)


def reading_keys() -> dict[str, SecretKey]:
    """Every key stored secrets may be read with, by key id: the current and the previous one."""
    keys = {k.key_id: k for k in (_load(KEY_ENV, required=True), _load(PREVIOUS_KEY_ENV, required=False)) if k}
    return keys


def associated_data(*fields: str) -> bytes:
    """What a ciphertext is bound to: the row's identity."""
    return _SEP.join(f.encode("utf-8") for f in fields)


def encrypt_many(key: SecretKey, secrets: list[str], bound_to: list[bytes]) -> list[str]:
    """Each secret encrypted under its own random nonce, as urlsafe base64 of nonce + ciphertext."""
    nonces = os.urandom(NONCE_BYTES * len(secrets))
    encrypt = key.aead.encrypt
    return [base64.urlsafe_b64encode(nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES]
                                     + encrypt(nonces[i * NONCE_BYTES:(i + 1) * NONCE_BYTES], s.encode("utf-8"), ad)
                                     ).decode("ascii")
            for i, (s, ad) in enumerate(zip(secrets, bound_to))]


def digest_many(key: SecretKey, contents: list[bytes]) -> list[str]:
    """Keyed digests of rows' content (secret included), so an unchanged credential is recognised
    without decrypting anything; equal passwords of two people give different digests."""
    return [hmac.digest(key.digest_key, c, "sha256").hex() for c in contents]


def decrypt(keys: dict[str, SecretKey], key_id: str, token: str, bound_to: bytes) -> str:
    key = keys.get(key_id)
    if key is None:
        raise CredentialsKeyError(
            f"a stored credential was encrypted with key {key_id}, which is neither {KEY_ENV} nor "
            f"{PREVIOUS_KEY_ENV}; set {PREVIOUS_KEY_ENV} to the key it was written with")
    raw = base64.urlsafe_b64decode(token.encode("ascii"))
    try:
        return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to).decode("utf-8")
    except InvalidTag:
        raise CredentialsKeyError(
            f"a stored credential does not decrypt with key {key_id}: the stored row was altered or moved") from None
