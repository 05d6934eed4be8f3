"""Every persona's chat, kept on the server, and the events the page listens to.

A chat holds messages in two shapes: the Telegram `Message` object (what a callback query
carries back to the bot) and the view the page draws. Events go to every open page.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

Event = dict[str, Any]
# A page that stops reading (a closed laptop lid) must not hold memory without bound.
_LISTENER_BACKLOG = 1000


@dataclass
class StoredMessage:
    telegram: dict[str, Any]
    view: dict[str, Any]


@dataclass
class Chat:
    messages: dict[int, StoredMessage] = field(default_factory=dict)  # insertion = time order
    keyboard: dict[str, Any] | None = None  # the reply keyboard in force
    message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


class ChatStore:
    def __init__(self) -> None:
        self._chats: dict[int, Chat] = {}
        self._listeners: set[asyncio.Queue[Event]] = set()

    def chat(self, chat_id: int) -> Chat:
        return self._chats.setdefault(chat_id, Chat())

    def next_message_id(self, chat_id: int) -> int:
        """Telegram numbers the messages of a private chat together, both directions."""
        return next(self.chat(chat_id).message_ids)

    def get(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.chat(chat_id).messages.get(message_id)

    # -- changes (each one told to the pages) -------------------------------------------------
    def add(self, chat_id: int, message: StoredMessage) -> None:
        self.chat(chat_id).messages[message.view["id"]] = message
        self._publish({"type": "message", "chat_id": chat_id, "message": message.view})

    def replace(self, chat_id: int, message: StoredMessage) -> None:
        self.chat(chat_id).messages[message.view["id"]] = message
        self._publish({"type": "edit", "chat_id": chat_id, "message": message.view})

    def delete(self, chat_id: int, message_id: int) -> bool:
        if self.chat(chat_id).messages.pop(message_id, None) is None:
            return False
        self._publish({"type": "delete", "chat_id": chat_id, "message_id": message_id})
        return True

    def set_keyboard(self, chat_id: int, keyboard: dict[str, Any] | None) -> None:
        self.chat(chat_id).keyboard = keyboard
        self._publish({"type": "keyboard", "chat_id": chat_id, "keyboard": keyboard})

    def toast(self, chat_id: int, text: str, alert: bool) -> None:
        self._publish({"type": "toast", "chat_id": chat_id, "text": text, "alert": alert})

    def problem(self, chat_id: int | None, text: str) -> None:
        """Something Telegram would have refused: shown in the chat, so it is not missed."""
        self._publish({"type": "problem", "chat_id": chat_id, "text": text})

    # -- pages --------------------------------------------------------------------------------
    def snapshot(self) -> dict[int, dict[str, Any]]:
        return {
            chat_id: {
                "messages": [m.view for m in chat.messages.values()],
                "keyboard": chat.keyboard,
            }
            for chat_id, chat in self._chats.items()
        }

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(_LISTENER_BACKLOG)
        self._listeners.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._listeners.discard(queue)

    def _publish(self, event: Event) -> None:
        for queue in list(self._listeners):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A page that stopped reading: drop its backlog, it reloads the snapshot.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait({"type": "reload"})
