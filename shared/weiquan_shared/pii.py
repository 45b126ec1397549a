"""Personal data (PIPL): encryption at rest, keyed-hash lookups and masking.

Free text is redacted by :mod:`weiquan_shared.redaction`.

Stored form of an encrypted value: ``key_id`` ‖ ``:`` ‖ nonce (12 bytes) ‖ ciphertext, with
associated data binding it to its table, column and row, so a value copied to another row
does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from weiquan_shared.settings import PiiSettings


class PiiCipher:
    """AES-256-GCM encryption of personal data and HMAC-SHA256 blind indexes."""

    def __init__(self, keys: dict[str, bytes], active_key_id: str, index_key: bytes) -> None:
        if active_key_id not in keys:
            raise ValueError(f"active key id {active_key_id!r} is not among the keys")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = active_key_id
        self._index_key = index_key

    @classmethod
    def from_settings(cls, settings: PiiSettings) -> PiiCipher:
        keys = {key_id: base64.b64decode(value) for key_id, value in settings.keys.items()}
        return cls(
            keys,
            settings.pii_active_key_id,
            base64.b64decode(settings.pii_index_key.get_secret_value()),
        )

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Encrypt ``plaintext``; ``context`` (e.g. ``workers.mobile:<row id>``) is bound to it."""
        nonce = os.urandom(12)
        sealed = self._aead[self._active].encrypt(nonce, plaintext.encode(), context.encode())
        return self._active.encode() + b":" + nonce + sealed

    def decrypt(self, stored: bytes, context: str) -> str:
        key_id, _, rest = bytes(stored).partition(b":")
        aead = self._aead[key_id.decode()]
        return aead.decrypt(rest[:12], rest[12:], context.encode()).decode()

    def blind_index(self, value: str, purpose: str) -> str:
        """A keyed hash for equality search (``purpose`` keeps e.g. phones and IDs apart)."""
        normalised = value.strip().upper()
        digest = hmac.new(self._index_key, f"{purpose}|{normalised}".encode(), hashlib.sha256)
        return digest.hexdigest()


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳修文 → 欧**文."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_mobile(mobile: str) -> str:
    """13812345678 → 138****5678."""
    digits = re.sub(r"\D", "", mobile)[-11:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(id_number: str) -> str:
    """11010519491231002X → 110105********002X (region kept, birth date hidden)."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_email(email: str) -> str:
    """li.jingli@pengcheng.cn → l***@pengcheng.cn (the domain says which employer)."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
