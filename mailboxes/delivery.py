"""Who hears of a letter, and how: the box's recipients, and — for named and confidential
letters only — the sender. The only place that unseals a confidential sender, and only to
queue a notice or name them to the improvement loop; anonymous senders are never looked up."""

from __future__ import annotations

import secrets

from mailboxes import notifications as templates
from mailboxes.model import IdentityMode, LetterDTO
from mailboxes.settings import Box, MailboxContext
from members.dto import MemberDTO
from outbox.model import Notification
from storage.uow import Repositories


class LetterNotices:
    def __init__(self, repos: Repositories, context: MailboxContext) -> None:
        self._repos = repos
        self._letters = repos.mailbox
        self._sealer = context.sealer
        self._boxes = {box.key: box for box in context.settings.boxes}

    def _box(self, key: str) -> Box:
        return self._boxes[key]

    async def recipients(self, box: Box) -> list[MemberDTO]:
        found = {m.id: m for m in await self._repos.members.linked_with_roles(box.roles)}
        for telegram_id in box.telegram_ids:
            member = await self._repos.members.get_by_telegram_id(telegram_id)
            if member is not None:
                found[member.id] = member
        return list(found.values())

    async def tell_recipients(
        self, box: Box, letter_id: int, template: str, step: str, **params: object
    ) -> None:
        for member in await self.recipients(box):
            assert member.telegram_id is not None
            await self._repos.outbox.enqueue(
                Notification(
                    key=f"mailbox:{letter_id}:{step}:{member.id}",
                    chat_id=member.telegram_id,
                    locale=member.locale,
                    template=template,
                    params={"letter_id": letter_id, "box": box.name(member.locale), **params},
                )
            )

    async def tell_sender(self, letter: LetterDTO, kind: str, step: str, **params: object) -> None:
        """Named and confidential senders hear of replies; anonymous ones look with the code."""
        chat = await self._sender_chat(letter)
        if chat is None:
            return
        chat_id, locale = chat
        named = letter.mode is IdentityMode.NAMED
        # For confidential letters the key is unique but not derived from the letter.
        key = f"mailbox:{letter.id}:{step}:sender" if named else f"mailbox:{secrets.token_hex(12)}"
        await self._repos.outbox.enqueue(
            Notification(
                key=key,
                chat_id=chat_id,
                locale=locale,
                template=templates.SENDER_NEWS,
                params={
                    "letter_id": letter.id if named else None,
                    "box": self._box(str(params.get("box", letter.box))).name(locale),
                    "kind": kind,
                },
            )
        )

    async def sender_id(self, letter: LetterDTO) -> int | None:
        """The member who wrote a named or confidential letter (unsealed); None otherwise."""
        if letter.mode is IdentityMode.ANONYMOUS:
            return None
        member_id, seal = await self._letters.sealed_sender(letter.id)
        if letter.mode is IdentityMode.CONFIDENTIAL:
            member_id = self._sealer.unseal(letter.id, seal) if seal else None
        return member_id

    async def _sender_chat(self, letter: LetterDTO) -> tuple[int, str | None] | None:
        member_id = await self.sender_id(letter)
        member = await self._repos.members.get(member_id) if member_id else None
        if member is None or member.telegram_id is None:
            return None  # the sender left the union: nobody to tell
        return member.telegram_id, member.locale
