"""Broadcasts: many outbox messages started together, watched through one progress message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from outbox.model import Notification
from outbox.ports import OutboxRepos


async def start_broadcast(
    repos: OutboxRepos,
    *,
    title: str,
    notifications: Iterable[Notification],
    progress_chat_id: int | None = None,
    progress_locale: str | None = None,
) -> int:
    """Queue every notification under one broadcast, in one transaction; returns its id.

    Re-running with the same keys queues nothing new (each key is sent once)."""
    broadcast_id = await repos.outbox.create_broadcast(title, progress_chat_id, progress_locale)
    queued = await repos.outbox.enqueue_many(
        [replace(notification, broadcast_id=broadcast_id) for notification in notifications]
    )
    await repos.outbox.set_broadcast_total(broadcast_id, queued)
    await repos.commit()
    return broadcast_id
