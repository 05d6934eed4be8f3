"""The mailbox's cryptography, all keyed by the installation's secret key.

- Confidential letters: the sender's member id sealed with AES-GCM (the letter id is the
  associated data, so a seal cannot be moved to another letter), plus a keyed HMAC tag so the
  sender can list their own letters. Without the key neither reveals anything.
- Notices to confidential senders: outbox keys are keyed hashes, so the outbox names no
  letter or member without the key.
- Anonymous letters: a receipt code of 20 random digits (66 bits), stored only as scrypt of
  the code with a key-derived salt, so it can be looked up but not reversed or brute-forced
  cheaply.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

RECEIPT_DIGITS = 20
_NOT_DIGITS = re.compile(r"[\s\-–—_.]")
# scrypt cost: ~16 MiB and tens of milliseconds per guess.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def subkey(key: bytes, purpose: str) -> bytes:
    """A key for one purpose, derived from the installation key (one-way)."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(subkey(key, "mailbox-seal"))
        self._tag_key = subkey(key, "mailbox-sender-tag")
        self._receipt_salt = subkey(key, "mailbox-receipt")[:16]
        self._notice_key = subkey(key, "mailbox-notice-key")

    # -- confidential -----------------------------------------------------------------------------
    def seal(self, letter_id: int, member_id: int) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, str(member_id).encode(), _aad(letter_id))

    def unseal(self, letter_id: int, sealed: bytes) -> int | None:
        try:
            plain = self._aead.decrypt(sealed[:12], sealed[12:], _aad(letter_id))
        except (InvalidTag, ValueError):
            return None  # another key, or a seal moved from another letter
        return int(plain)

    def sender_tag(self, member_id: int) -> str:
        return hmac.new(self._tag_key, str(member_id).encode(), hashlib.sha256).hexdigest()

    # -- keys -------------------------------------------------------------------------------------
    def notice_key(self, *parts: object) -> str:
        """An outbox idempotency key part: a keyed hash, so it names no id without the key."""
        text = ":".join(str(part) for part in parts)
        return hmac.new(self._notice_key, text.encode(), hashlib.sha256).hexdigest()[:40]

    # -- anonymous --------------------------------------------------------------------------------
    @staticmethod
    def new_receipt_code() -> str:
        digits = "".join(secrets.choice("0123456789") for _ in range(RECEIPT_DIGITS))
        return " ".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))

    @staticmethod
    def normalize_code(text: str) -> str | None:
        digits = _NOT_DIGITS.sub("", text)
        return digits if len(digits) == RECEIPT_DIGITS and digits.isdigit() else None

    def receipt_hash(self, code: str) -> str:
        digits = self.normalize_code(code)
        if digits is None:
            raise ValueError("not a receipt code")
        return hashlib.scrypt(
            digits.encode(),
            salt=self._receipt_salt,
            n=SCRYPT_N,
            r=SCRYPT_R,
            p=SCRYPT_P,
            dklen=32,
        ).hex()


def _aad(letter_id: int) -> bytes:
    return f"letter:{letter_id}".encode()
