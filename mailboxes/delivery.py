"""Who hears of a letter, and how: the box's recipients, and — for named and confidential
letters only — the sender. The only place that unseals a confidential sender, and only in the
sweep's batch of notices (never at the moment of a recipient's action); anonymous senders are
never looked up."""

from __future__ import annotations

import random
from datetime import datetime

from mailboxes import notifications as templates
from mailboxes.model import IdentityMode, LetterDTO
from mailboxes.ports import MailboxRepos
from mailboxes.settings import Box, MailboxContext
from members.dto import MemberDTO
from outbox.model import Notification


class LetterNotices:
    def __init__(self, repos: MailboxRepos, context: MailboxContext) -> None:
        self._repos = repos
        self._letters = repos.mailbox
        self._sealer = context.sealer
        self._boxes = {box.key: box for box in context.settings.boxes}

    def _box(self, key: str) -> Box:
        return self._boxes[key]

    async def recipients(self, box: Box) -> list[MemberDTO]:
        return await self._repos.members.readers(box.roles, box.telegram_ids)

    async def tell_recipients(
        self, box: Box, letter_id: int, template: str, step: str, **params: object
    ) -> None:
        for member in await self.recipients(box):
            await self._repos.outbox.enqueue(
                Notification.for_member(
                    member,
                    ("mailbox", letter_id, step, member.id),
                    template=template,
                    params={"letter_id": letter_id, "box": box.name(member.locale), **params},
                )
            )

    async def tell_sender(self, letter: LetterDTO, kind: str, step: str, **params: object) -> None:
        """Named senders hear of replies now; confidential ones from the sweep's next batch
        (`release_sender_notices`); anonymous ones look with the code."""
        if letter.mode is IdentityMode.CONFIDENTIAL:
            # Nothing about the sender is written at the moment of the recipient's action.
            await self._letters.flag_sender_notice(letter.id)
            return
        chat = await self._sender_chat(letter)
        if chat is None:
            return
        chat_id, locale = chat
        await self._repos.outbox.enqueue(
            Notification.build(
                ("mailbox", letter.id, step, "sender"),
                chat_id=chat_id,
                locale=locale,
                template=templates.SENDER_NEWS,
                params={
                    "letter_id": letter.id,
                    "box": self._box(str(params.get("box", letter.box))).name(locale),
                    "kind": kind,
                },
            )
        )

    async def release_sender_notices(self, at: datetime, *, batch: int, force: bool) -> int:
        """One notice per confidential sender with news, queued together at the coarse time
        `at` in random order, naming no letter, box or kind; keys are keyed hashes. Held back
        until at least `batch` senders wait (or `force`, the fixed release times), so a copy
        of the tables maps each notice only to "one of the letters with news since the last
        batch"; the outbox deletes each row once delivered. Returns how many were queued."""
        waiting: dict[int, tuple[str | None, list[str]]] = {}
        letters = await self._letters.with_sender_notice()
        for letter in letters:
            chat = await self._sender_chat(letter)
            if chat is not None:
                version = f"{letter.id}.{await self._letters.last_seq(letter.id)}"
                waiting.setdefault(chat[0], (chat[1], []))[1].append(version)
        if not letters or (len(waiting) < batch and not force):
            return 0
        chats = list(waiting)
        random.SystemRandom().shuffle(chats)  # row ids follow no letter's order
        queued = 0
        for chat_id in chats:
            locale, versions = waiting[chat_id]
            queued += await self._repos.outbox.enqueue(
                Notification.build(
                    # The same news gives the same key (two sweeps queue it once).
                    ("mailbox", "c", self._sealer.notice_key(chat_id, *sorted(versions))),
                    chat_id=chat_id,
                    locale=locale,
                    template=templates.CONFIDENTIAL_NEWS,
                    at=at,
                    forget=True,  # once delivered, no row pairs this chat with a time
                )
            )
        await self._letters.clear_sender_notices([letter.id for letter in letters])
        return queued

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
