"""Conversation states of surveys: answering ("survey:<id>") and the officers' drafts."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    Message,
)

# While answering, the FSM state is "survey:<id>": typed text goes to that survey, and the
# state is written only when it changes (not on every answer).
ANSWERING = "survey:"


def answering_state(survey_id: int) -> str:
    return f"{ANSWERING}{survey_id}"


class Answering(Filter):
    # aiogram passes the event first, then the data the signature names.
    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:  # noqa: ARG002
        return raw_state is not None and raw_state.startswith(ANSWERING)


class DraftStates(StatesGroup):
    file = State()  # waiting for a workbook or TOML file
    rename = State()
    opens = State()  # a typed opening time is welcome
    closes = State()
    scheduling = State()  # buttons only
    trying = State()
