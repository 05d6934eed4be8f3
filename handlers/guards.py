"""Who may reach a router. Private chat and registration are checked once, on the parent
routers in handlers/routers.py; a router for one role is made here."""

from __future__ import annotations

from aiogram import Router

from bot.middlewares import RequireRole
from members.roles import Role


def role_router(name: str, role: Role = Role.OFFICER) -> Router:
    """A router whose every message and button press is checked for `role`."""
    router = Router(name=name)
    guard = RequireRole(role)
    for observer in (router.message, router.callback_query):
        observer.middleware(guard)
    return router
