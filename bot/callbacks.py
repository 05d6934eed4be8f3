"""Callback data: short prefixes, typed fields. Never trusted: handlers re-check everything."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from members.roles import Role


class MenuAction(StrEnum):
    SURVEYS = "sv"
    PROPOSALS = "pr"
    MAILBOX = "mb"
    MINE = "my"
    LANGUAGE = "lg"
    HELP = "hp"
    APPROVALS = "ap"
    ROLES = "rl"


class MenuCB(CallbackData, prefix="m1"):
    action: MenuAction


class ConsentCB(CallbackData, prefix="c1"):
    accept: bool


class LanguageCB(CallbackData, prefix="l1"):
    locale: str


class ApprovalCB(CallbackData, prefix="a1"):
    request_id: int
    approve: bool


class RoleCB(CallbackData, prefix="r1"):
    member_id: int
    role: Role
