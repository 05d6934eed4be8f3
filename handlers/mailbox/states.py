"""Conversation states of the mailbox; anonymous senders are found by a memory-only
session, never by the conversation state."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from mailboxes.memory import AnonymousStore, Stage


class Writing(StatesGroup):
    letter = State()  # named or confidential: the draft is in the FSM data


class InAnonymousSession(Filter):
    """The sender has an anonymous session at this stage (kept in memory only)."""

    def __init__(self, *stages: Stage) -> None:
        self._stages = frozenset(stages)

    async def __call__(
        self, event: Message | CallbackQuery, anonymous_sessions: AnonymousStore
    ) -> bool | dict[str, Any]:
        session = await anonymous_sessions.get(event.from_user.id) if event.from_user else None
        if session is None or session.stage not in self._stages:
            return False
        return {"anonymous": session}


class Answering(StatesGroup):
    text = State()  # a reply or a question: text and files, then Send


class Handling(StatesGroup):
    outcome = State()


class Transferring(StatesGroup):
    note = State()
