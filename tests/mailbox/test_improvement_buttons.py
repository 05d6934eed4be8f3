"""Forged "improvement action" buttons: callback data is not authenticated, so the handler
checks that the reader may see the source. A box's digest lends its keywords (words out of
that box's letters) only to that box's recipients, and a draft proposal lends nothing."""

from __future__ import annotations

import json

from handlers.callbacks import ImprovementAction, ImprovementCB
from members.roles import Role
from proposals.model import Kind
from storage.uow import unit_of_work
from tests.mailbox.conftest import OFFICER, PRINCIPAL, SENDER

SECRET_WORD = "kickbacks"


def theme_button(digest_id: int) -> ImprovementCB:
    return ImprovementCB(action=ImprovementAction.NEW, kind="t", ref_id=digest_id, ref_key="0")


async def store_digest(database, audience: str, keyword: str) -> int:
    data = {"sections": {"themes": {"texts": 3, "themes": [{"keyword": keyword, "count": 3}]}}}
    async with unit_of_work(database.sessions) as repos:
        digest_id, _data = await repos.digests.store("2026-W48", audience, json.dumps(data))
        await repos.commit()
    return digest_id


async def test_a_box_digest_lends_its_keywords_only_to_that_box(people, database):
    app = people
    box_digest = await store_digest(database, "box:principal", SECRET_WORD)
    forged = await app.press(OFFICER, theme_button(box_digest))
    assert SECRET_WORD not in forged.text
    assert "no longer valid" in forged.text
    assert "Step 1/6" not in forged.text

    # The officers' own digest still works, and so does a box digest for its recipient.
    union_digest = await store_digest(database, "officers", "canteen")
    own = await app.press(OFFICER, theme_button(union_digest))
    assert "From: canteen" in own.text and "Step 1/6" in own.text
    async with unit_of_work(database.sessions) as repos:
        principal = await repos.members.get_by_telegram_id(PRINCIPAL.id)
        assert principal is not None
        await repos.members.set_roles(principal.id, [Role.PRINCIPAL, Role.OFFICER])
        await repos.commit()
    recipient = await app.press(PRINCIPAL, theme_button(box_digest))
    assert f"From: {SECRET_WORD}" in recipient.text


async def test_a_draft_proposal_lends_nothing_to_a_forged_button(people, database):
    app = people
    async with unit_of_work(database.sessions) as repos:
        author = await repos.members.get_by_telegram_id(SENDER.id)
        assert author is not None
        proposal_id = await repos.proposals.create(Kind.SUGGESTION, "canteen", author.id)
        await repos.proposals.set_title(proposal_id, "Replace the dean quietly")
        await repos.commit()
    forged = await app.press(
        OFFICER, ImprovementCB(action=ImprovementAction.NEW, kind="p", ref_id=proposal_id)
    )
    assert "Replace the dean" not in forged.text
    assert "does not exist" in forged.text
