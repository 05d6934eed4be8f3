"""Conversation states of registration and role editing."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    consent = State()
    employee_id = State()
    name = State()


class RoleEditing(StatesGroup):
    employee_id = State()
