"""Conversation states of filing, commenting, replying and the officers' work."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Filing(StatesGroup):
    title = State()
    body = State()


class Replying(StatesGroup):
    text = State()


class Commenting(StatesGroup):
    text = State()


class Work(StatesGroup):
    merge_target = State()
    reason = State()
    department = State()
    due_date = State()
    answer = State()
    question = State()
