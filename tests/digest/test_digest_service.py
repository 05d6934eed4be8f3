"""The digest's content, from real rows: surveys with changes and the small-group rule,
themes, proposals, the mailbox stub, improvement actions; one digest per audience."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from digest.period import Period
from digest.render import render_messages
from digest.sections.base import OFFICERS, Audience
from digest.service import DigestService, english
from digest.settings import DigestSettings
from storage.uow import Repositories
from tests.digest.world import W47_DAY, W48_DAY, add_survey, answer, file_suggestion, make_world

W48 = Period(2026, 48)


@pytest.fixture
async def world(database):
    async with database.sessions() as session:
        yield await make_world(database, Repositories(session))


async def test_officer_digest_content(world) -> None:
    survey_id = await add_survey(world)
    for _ in range(5):  # last week: mean 2, NPS −100
        await answer(world, survey_id, W47_DAY, 2, 3)
    for i in range(6):  # this week: mean 4, in two departments (one too small to show)
        department = "机电学院" if i < 5 else "外语学院"
        await answer(world, survey_id, W48_DAY, 4, 10, "食堂饭菜价格太贵", department=department)
    await file_suggestion(
        world, "M1", "食堂价格", "食堂饭菜价格偏高", datetime(2026, 11, 24, 3, tzinfo=UTC)
    )
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    data = await service.compute(W48, OFFICERS)

    assert list(data["sections"]) == ["surveys", "themes", "proposals", "mailbox", "actions"]
    survey = data["sections"]["surveys"]["surveys"][0]
    assert (survey["responses"], survey["responses_previous"]) == (6, 5)
    food = survey["questions"][0]
    assert (food["score"], food["score_previous"]) == (4.0, 2.0)
    # 机电学院 has 5 (shown); 外语学院 has 1: merged into "other", which is below k: hidden.
    assert [d["department"] for d in food["departments"]] == ["机电学院"]
    nps = survey["questions"][1]
    assert (nps["score"], nps["score_previous"]) == (100.0, -100.0)
    assert data["sections"]["surveys"]["moved"][0]["question_id"] == "nps"

    themes = data["sections"]["themes"]["themes"]
    by_word = {t["keyword"]: t for t in themes}
    assert by_word["食堂"]["count"] == 7  # six answers and one proposal
    assert by_word["食堂"]["sources"] == {"survey": 6, "proposal": 1}
    assert by_word["食堂"]["quotes"]

    assert data["sections"]["proposals"]["new"] == 1
    assert data["sections"]["mailbox"]["received"] == 0

    text = "\n".join(render_messages(data, english(None), None))
    assert "Weekly digest 2026-W48" in text
    assert "mean 4 (▲2)" in text
    assert "NPS +100 (▲200)" in text
    assert "Letters received: 0" in text
    assert "<b>食堂</b>" in text


async def test_user_text_is_escaped_and_messages_split(world) -> None:
    survey_id = await add_survey(world)
    for i in range(40):
        await answer(world, survey_id, W48_DAY, 3, None, f"<script>食堂{i}</script> " + "长" * 300)
    service = DigestService(world.repos, DigestSettings(quotes=3, themes=8), clock=world.clock)
    data = await service.compute(W48, OFFICERS)
    parts = render_messages(data, english(None), None, limit=600)
    assert len(parts) > 1
    assert all(len(part) <= 600 for part in parts)
    assert "<script>" not in "".join(parts)
    assert "&lt;script&gt;" in "".join(parts)


async def test_department_and_box_audiences(world) -> None:
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    audiences = {r.member_id: a.name for r, a in await service.recipients()}
    assert audiences[world.member_id("O1")] == "officers"
    assert audiences[world.member_id("Z1")] == "officers"
    assert audiences[world.member_id("PR")] == "box:principal"
    assert audiences[world.member_id("SE")] == "box:secretary"
    assert audiences[world.member_id("H1")] == "department:后勤处"
    assert world.member_id("M1") not in audiences

    box = await service.compute(W48, Audience("box", "principal"))
    assert list(box["sections"]) == ["themes", "proposals", "mailbox"]
    department = await service.compute(W48, Audience("department", "后勤处"))
    assert list(department["sections"]) == ["proposals", "actions"]
    assert "Nothing due within a week." in "\n".join(
        render_messages(department, english(None), None)
    )
