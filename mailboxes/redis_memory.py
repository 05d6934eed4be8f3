"""The mailbox's anonymous memory shared by every instance through Redis (`[fsm] redis_url`):
the next message of an anonymous letter may reach another instance, and a limit must count
each person once, not once per instance.

What Redis holds, and for how long:
- names are keyed hashes (HMAC-SHA256 of the Telegram id, one key per purpose, derived from
  the installation key so every instance finds the same name): no Telegram id in any name;
- a session is an AES-GCM blob (key derived from the installation key; the name is the
  associated data, so a blob cannot be moved to another person) and its draft a list of such
  blobs, one per part (RPUSH: two instances appending never overwrite each other);
- limits are bare counters (INCR, expiring with their window);
- everything expires after its TTL, refreshed on activity; nothing needs sweeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mailboxes.memory import SESSION_TTL, AnonymousSession, Stage
from mailboxes.model import Draft, LetterType
from mailboxes.sealing import subkey

if TYPE_CHECKING:
    from redis.asyncio import Redis

PREFIX = "unionvoice:anon"

# Append a part only to a live session, and keep both alive for another TTL.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""
# Replace the session's blob only while it lives (an expired or ended session stays gone).
_SAVE = """
if redis.call('SET', KEYS[1], ARGV[1], 'XX', 'EX', ARGV[2]) then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0
"""


class _Names:
    """Keyed-hash names: the same on every instance holding the installation key."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = subkey(key, f"anonymous-memory-name:{purpose}")
        self._purpose = purpose

    def name(self, telegram_id: int) -> str:
        digest = hmac.new(self._key, str(telegram_id).encode(), hashlib.sha256).hexdigest()
        return f"{PREFIX}:{self._purpose}:{digest}"


class RedisAnonymousSessions:
    """Anonymous sessions in Redis: see the module docstring for what is kept and how."""

    def __init__(self, redis: Redis, key: bytes, ttl: float = SESSION_TTL) -> None:
        self._redis = redis
        self._names = _Names(key, "session")
        self._aead = AESGCM(subkey(key, "anonymous-memory-seal"))
        self._ttl = max(1, round(ttl))

    def _keys(self, telegram_id: int) -> tuple[str, str]:
        name = self._names.name(telegram_id)
        return name, f"{name}:parts"

    def _seal(self, name: str, value: dict[str, object]) -> bytes:
        nonce = secrets.token_bytes(12)
        plain = json.dumps(value, ensure_ascii=False).encode()
        return nonce + self._aead.encrypt(nonce, plain, name.encode())

    def _open(self, name: str, blob: bytes) -> dict[str, object] | None:
        try:
            plain = self._aead.decrypt(blob[:12], blob[12:], name.encode())
        except (InvalidTag, ValueError):
            return None  # another key, or a blob moved from another name
        value = json.loads(plain)
        return value if isinstance(value, dict) else None

    def _session_blob(self, name: str, session: AnonymousSession) -> bytes:
        return self._seal(
            name,
            {
                "stage": session.stage.value,
                "box": session.box,
                "type": session.type.value,
                "letter_id": session.letter_id,
            },
        )

    async def get(self, telegram_id: int) -> AnonymousSession | None:
        name, parts = self._keys(telegram_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.lrange(parts, 0, -1)
            pipe.expire(name, self._ttl)
            pipe.expire(parts, self._ttl)
            blob, part_blobs, *_ = await pipe.execute()
        if blob is None:
            return None
        value = self._open(name, blob)
        if value is None:
            return None
        drafts = []
        for part_blob in part_blobs:
            part = self._open(parts, part_blob)
            if part is not None:
                drafts.append(Draft.from_dict(part))
        letter_id = value.get("letter_id")
        return AnonymousSession(
            stage=Stage(str(value["stage"])),
            box=str(value.get("box") or ""),
            type=LetterType(str(value["type"])),
            draft=Draft.joined(drafts),
            letter_id=int(letter_id) if isinstance(letter_id, int) else None,
        )

    async def start(self, telegram_id: int, session: AnonymousSession) -> None:
        name, parts = self._keys(telegram_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(parts)
            pipe.set(name, self._session_blob(name, session), ex=self._ttl)
            if not session.draft.is_empty:
                pipe.rpush(parts, self._seal(parts, session.draft.to_dict()))
                pipe.expire(parts, self._ttl)
            await pipe.execute()

    async def save(self, telegram_id: int, session: AnonymousSession) -> None:
        name, parts = self._keys(telegram_id)
        await self._redis.eval(_SAVE, 2, name, parts, self._session_blob(name, session), self._ttl)

    async def append(self, telegram_id: int, part: Draft) -> None:
        name, parts = self._keys(telegram_id)
        blob = self._seal(parts, part.to_dict())
        await self._redis.eval(_APPEND, 2, name, parts, blob, self._ttl)

    async def end(self, telegram_id: int) -> None:
        await self._redis.delete(*self._keys(telegram_id))

    async def sweep(self) -> int:
        return 0  # Redis forgets expired sessions by itself (TTL)


class RedisLimit:
    """At most `limit` events per person in a window that starts at their first event:
    a counter under a keyed-hash name, expiring with the window, shared by every instance."""

    def __init__(self, redis: Redis, key: bytes, name: str, limit: int, window: float) -> None:
        self._redis = redis
        self._names = _Names(key, f"limit:{name}")
        self.limit = limit
        self._window = max(1, round(window))

    async def exhausted(self, telegram_id: int) -> bool:
        count = await self._redis.get(self._names.name(telegram_id))
        return count is not None and int(count) >= self.limit

    async def hit(self, telegram_id: int) -> None:
        name = self._names.name(telegram_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            # The window starts with the first event; INCR keeps the expiry it was set with.
            pipe.set(name, 0, ex=self._window, nx=True)
            pipe.incr(name)
            await pipe.execute()
