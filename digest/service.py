"""Weekly digests: build once per period and audience (stored), deliver exactly once per
member and period through the outbox, catch up on a missed one, re-send on request."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from common.clock import Clock, system_clock
from digest import notifications as templates
from digest.model import Recipient
from digest.period import Period, latest_due
from digest.ports import DigestRepos
from digest.render import render_chart, render_messages, render_workbook
from digest.sections import sections_for
from digest.sections.base import OFFICERS, Audience, Data, Gettext, SectionContext
from digest.settings import DigestSettings
from members.roles import Role
from outbox.model import Kind, Notification

logger = logging.getLogger(__name__)
Translator = Callable[[str | None], Gettext]  # locale → gettext in that language

THEME_BUTTONS = 5


@dataclass(frozen=True, slots=True)
class StoredDigest:
    id: int
    period: str
    audience: str
    data: Data


def english(_locale: str | None) -> Gettext:
    """Identity translation (message ids are English): the CLI preview and tests."""
    return lambda message: message


class DigestService:
    def __init__(
        self,
        repos: DigestRepos,
        settings: DigestSettings | None = None,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._repos = repos
        self.settings = settings or DigestSettings()
        self._clock = clock

    # -- building ---------------------------------------------------------------------------------
    async def build(self, period: Period, audience: Audience = OFFICERS) -> StoredDigest:
        """The stored digest of this period and audience, built and stored (committed) the
        first time: every later send shows the same figures."""
        stored = await self._repos.digests.stored(period.key, audience.name)
        if stored is None:
            data = await self.compute(period, audience)
            stored = await self._repos.digests.store(
                period.key, audience.name, json.dumps(data, ensure_ascii=False)
            )
            await self._repos.commit()
        digest_id, raw = stored
        return StoredDigest(digest_id, period.key, audience.name, json.loads(raw))

    async def compute(self, period: Period, audience: Audience = OFFICERS) -> Data:
        """Every section of the audience's digest, computed now (not stored)."""
        now = self._clock()
        context = SectionContext(self._repos, period, audience, self.settings, now)
        sections = {}
        for section in sections_for(audience):
            sections[section.key] = await section.collect(context)
        return {
            "period": period.key,
            "audience": audience.name,
            "first_day": period.first_day.isoformat(),
            "built_at": now.astimezone(self.settings.tz).isoformat(timespec="minutes"),
            "sections": sections,
        }

    # -- who gets what ----------------------------------------------------------------------------
    async def recipients(self) -> list[tuple[Recipient, Audience]]:
        """Each registered member with a digest, once, with the broadest audience they are
        entitled to: whole union > their mailbox > their department's due items."""
        found: dict[int, tuple[Recipient, Audience]] = {}
        union_roles = self.settings.whole_union_roles
        for recipient in await self._repos.digests.registered_with_roles(union_roles):
            found[recipient.member_id] = (recipient, OFFICERS)
        for box, members in (await self.box_recipients()).items():
            for recipient in members:
                found.setdefault(recipient.member_id, (recipient, Audience("box", box)))
        for recipient in await self._repos.digests.registered_with_roles([Role.HANDLER.value]):
            found.setdefault(
                recipient.member_id, (recipient, Audience("department", recipient.department))
            )
        return [found[member_id] for member_id in sorted(found)]

    async def box_recipients(self) -> dict[str, list[Recipient]]:
        """Box key → who reads that box: the mailbox's configured roles and Telegram ids."""
        result: dict[str, list[Recipient]] = {}
        for box in self.settings.boxes:
            readers = {
                r.member_id: r for r in await self._repos.digests.registered_with_roles(box.roles)
            }
            for recipient in await self._repos.digests.registered_with_telegram_ids(
                box.telegram_ids
            ):
                readers.setdefault(recipient.member_id, recipient)
            result[box.key] = list(readers.values())
        return result

    async def audience_of(self, member_id: int) -> Audience | None:
        for recipient, audience in await self.recipients():
            if recipient.member_id == member_id:
                return audience
        return None

    def due_period(self) -> Period:
        return latest_due(self._clock(), self.settings.weekday, self.settings.at, self.settings.tz)

    # -- delivering -------------------------------------------------------------------------------
    async def deliver(
        self, period: Period, translate: Translator, *, resend: bool = False
    ) -> dict[str, int]:
        """Queue the period's digest for every recipient who has not had it. Each member's
        delivery row and messages are committed together, and the row is unique per member
        and period: two instances, or a restart mid-run, never send twice. `resend` also
        queues it again for those who had it."""
        counts = {"queued": 0, "already": 0, "resent": 0}
        media: dict[tuple[str, str | None], tuple[int, int]] = {}
        # A read first: the catch-up runs every few minutes and should not write then.
        delivered = await self._repos.digests.delivered(period.key)
        for recipient, audience in await self.recipients():
            if recipient.member_id in delivered and not resend:
                counts["already"] += 1
                continue
            digest = await self.build(period, audience)
            if await self._repos.digests.claim_delivery(recipient.member_id, period.key, digest.id):
                tag = "1"
                counts["queued"] += 1
            elif resend:
                tag = f"r{await self._repos.digests.count_resend(recipient.member_id, period.key)}"
                counts["resent"] += 1
            else:
                counts["already"] += 1
                continue
            await self._enqueue(digest, recipient, tag, translate, media)
            await self._repos.commit()
        if counts["queued"] or counts["resent"]:
            logger.info("digest %s: %s", period.key, counts)
        return counts

    async def resend_to(self, member_id: int, period: Period, translate: Translator) -> bool:
        """The member's digest of the period again (the /digest command's outbox path)."""
        for recipient, audience in await self.recipients():
            if recipient.member_id != member_id:
                continue
            digest = await self.build(period, audience)
            if await self._repos.digests.claim_delivery(member_id, period.key, digest.id):
                tag = "1"
            else:
                tag = f"r{await self._repos.digests.count_resend(member_id, period.key)}"
            await self._enqueue(digest, recipient, tag, translate, {})
            await self._repos.commit()
            return True
        return False

    async def catch_up(self, translate: Translator) -> dict[str, int]:
        """Scheduled at start-up and every few minutes: the latest due period goes to whoever
        has not had it (after downtime, once; otherwise nothing)."""
        return await self.deliver(self.due_period(), translate)

    async def _enqueue(
        self,
        digest: StoredDigest,
        recipient: Recipient,
        tag: str,
        translate: Translator,
        media: dict[tuple[str, str | None], tuple[int, int]],
    ) -> None:
        gettext = translate(recipient.locale)
        parts = render_messages(digest.data, gettext, recipient.locale)
        key = f"digest:{digest.period}:{recipient.member_id}:{tag}"
        themes = []
        if digest.audience == OFFICERS.name:
            themes = [
                [index, theme["keyword"]]
                for index, theme in enumerate(
                    digest.data["sections"].get("themes", {}).get("themes", [])[:THEME_BUTTONS]
                )
            ]
        outbox = self._repos.outbox
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await outbox.enqueue(
                Notification.build(
                    (key, "text", index),
                    chat_id=recipient.chat_id,
                    locale=recipient.locale,
                    template=templates.DIGEST_TEXT,
                    params={
                        "text": part,
                        "digest_id": digest.id,
                        "themes": themes if last else [],
                    },
                )
            )
        chart_id, workbook_id = await self._media(digest, recipient.locale, gettext, media)
        caption = gettext("Weekly digest {period}").format(period=digest.period)
        await outbox.enqueue(
            Notification.build(
                (key, "chart"),
                chat_id=recipient.chat_id,
                locale=recipient.locale,
                template=templates.CAPTION,
                params={"text": caption},
                kind=Kind.PHOTO,
                media_id=chart_id,
            )
        )
        await outbox.enqueue(
            Notification.build(
                (key, "workbook"),
                chat_id=recipient.chat_id,
                locale=recipient.locale,
                template=templates.CAPTION,
                params={"text": gettext("The details, as a workbook.")},
                kind=Kind.DOCUMENT,
                media_id=workbook_id,
            )
        )

    async def _media(
        self,
        digest: StoredDigest,
        locale: str | None,
        gettext: Gettext,
        cache: dict[tuple[str, str | None], tuple[int, int]],
    ) -> tuple[int, int]:
        """The chart (per language) and the workbook, drawn once per digest in this run and
        stored once by content."""
        key = (f"{digest.id}", locale)
        if key not in cache:
            chart = await asyncio.to_thread(render_chart, digest.data, gettext)
            workbook = await asyncio.to_thread(render_workbook, digest.data)
            slug = digest.audience.replace(":", "-")
            outbox = self._repos.outbox
            cache[key] = (
                await outbox.add_media(f"digest-{digest.period}-{locale or 'zh'}.png", chart),
                await outbox.add_media(f"digest-{digest.period}-{slug}.xlsx", workbook),
            )
        return cache[key]


def period_or_due(text: str | None, service: DigestService) -> Period:
    """A period given as "2026-W48", or the latest one due."""
    return Period.parse(text) if text else service.due_period()
