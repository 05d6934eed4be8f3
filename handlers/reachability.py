"""Telegram tells us when someone blocks or unblocks the bot; the outbox stops or resumes."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated

from members.service import MembershipService


async def on_blocked(event: ChatMemberUpdated, membership: MembershipService) -> None:
    await membership.set_reachable(event.from_user.id, reachable=False)


async def on_unblocked(event: ChatMemberUpdated, membership: MembershipService) -> None:
    await membership.set_reachable(event.from_user.id, reachable=True)


def create_router() -> Router:
    router = Router(name="reachability")
    router.my_chat_member.register(
        on_blocked, ChatMemberUpdatedFilter(member_status_changed=KICKED)
    )
    router.my_chat_member.register(
        on_unblocked, ChatMemberUpdatedFilter(member_status_changed=MEMBER)
    )
    return router
