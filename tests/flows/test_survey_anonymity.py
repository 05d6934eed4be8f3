"""The anonymity promise, proven on a database dump after real conversations.

Anonymous survey: no table links an answer to the member who gave it — no member id on the
response, no shared id, no timestamp finer than the day, no storage order that follows the
order people finished in, nothing left in drafts or conversation state.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from handlers.callbacks import SurveyAction, SurveyAdminAction, SurveyAdminCB, SurveyCB
from storage.database import Database
from storage.uow import unit_of_work
from surveys.service import SurveyService
from tests.conftest import register, seed_roster
from tests.dbdump import dump
from tests.harness import TgUser

ANONYMOUS = """
id = "anon"
title = "匿名满意度"
anonymous = true

[[questions]]
id = "overall"
type = "scale"
text = "总体满意度？"

[[questions]]
id = "comment"
type = "text"
text = "想说的话"
"""
# Three people in a department of three: fewer than k=5, so no department is stored either.
PEOPLE = [
    (TgUser(id=7001), "A1", "赵一", 5),
    (TgUser(id=7002), "A2", "钱二", 1),
    (TgUser(id=7003), "A3", "孙三", 3),
]
SMALL_DEPARTMENT = "档案馆"


async def columns(database: Database, table: str) -> list[str]:
    async with database.engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    return [column["name"] for column in found]


async def answer(app, user: TgUser, survey_id: int, score: int, comment: str) -> None:
    await app.press(user, SurveyCB(action=SurveyAction.START, survey_id=survey_id))
    await app.press(
        user, SurveyCB(action=SurveyAction.RATE, survey_id=survey_id, position=1, value=score)
    )
    await app.send(user, comment)
    done = await app.press(user, SurveyCB(action=SurveyAction.SUBMIT, survey_id=survey_id))
    assert "匿名" in done.text


async def test_no_anonymous_answer_can_be_linked_to_its_member(app, database):
    await seed_roster(database, [(e, n, SMALL_DEPARTMENT, "") for _, e, n, _ in PEOPLE])
    for user, employee_id, name, _ in PEOPLE:
        await register(app, user, employee_id, name)
    async with unit_of_work(database.sessions) as repos:
        survey, _ = await SurveyService(repos).import_definition(ANONYMOUS, "anon.toml")
        await SurveyService(repos).open(survey.slug)
    await app.flush_outbox()
    # They finish in an order that differs from their ids.
    for index in (1, 2, 0):
        user, employee_id, _, score = PEOPLE[index]
        await answer(app, user, survey.id, score, f"秘密意见-{employee_id}")

    tables = await dump(database)
    secrets = {f"秘密意见-{e}" for _, e, _, _ in PEOPLE}
    identities = {str(u.id) for u, *_ in PEOPLE} | {e for _, e, _, _ in PEOPLE}

    # 1. Responses carry no member, no time of day, no department of a small group.
    assert await columns(database, "survey_responses") == [
        "id",
        "survey_id",
        "member_id",
        "department",
        "submitted_on",
        "submitted_at",
    ]
    responses = tables["survey_responses"]
    assert len(responses) == 3
    for response_id, _, member_id, department, submitted_on, submitted_at in responses:
        assert member_id is None and submitted_at is None and department is None
        assert len(response_id) == 32 and len(str(submitted_on)) == len("2026-11-25")
    # Stored in the order of their random ids, not in the order people finished. Only SQLite
    # keeps that promise: a PostgreSQL heap keeps rows in the order they were written (an
    # update moves the row to the end), see docs/deploy.md.
    if database.is_sqlite:
        assert [r[0] for r in responses] == sorted(r[0] for r in responses)

    # 2. Participation knows who finished, but nothing that joins it to a response.
    assert await columns(database, "survey_participants") == ["survey_id", "member_id", "done"]
    if database.is_sqlite:
        assert [r[1] for r in tables["survey_participants"]] == sorted(
            r[1] for r in tables["survey_participants"]
        )

    # 3. The answers' texts appear only in survey_answers, next to nothing but the response id.
    response_ids = {r[0] for r in responses}
    for table, rows in tables.items():
        for row in rows:
            cells = {str(c) for c in row if c is not None}
            if table != "survey_answers":
                assert not cells & secrets, f"an anonymous answer leaked into {table}: {row}"
            if table not in ("survey_answers", "survey_responses"):
                assert not cells & response_ids, f"a response id leaked into {table}: {row}"
            if table in ("survey_answers", "survey_responses"):
                assert not cells & identities, f"an identity leaked into {table}: {row}"
    # 4. Nothing of the conversation is left behind.
    assert tables["survey_drafts"] == []
    assert all("秘密" not in str(row) for row in tables["fsm_states"])


async def test_named_survey_keeps_the_link_it_promises(app, database):
    await seed_roster(database, [("N1", "周四", "工会办公室", "")])
    user = TgUser(id=7101)
    await register(app, user, "N1", "周四")
    async with unit_of_work(database.sessions) as repos:
        survey, _ = await SurveyService(repos).import_definition(
            ANONYMOUS.replace("anonymous = true", "anonymous = false"), "named.toml"
        )
        await SurveyService(repos).open(survey.slug)
    await app.press(user, SurveyCB(action=SurveyAction.START, survey_id=survey.id))
    await app.press(
        user, SurveyCB(action=SurveyAction.RATE, survey_id=survey.id, position=1, value=4)
    )
    await app.send(user, "实名意见")
    await app.press(user, SurveyCB(action=SurveyAction.SUBMIT, survey_id=survey.id))
    (response,) = (await dump(database))["survey_responses"]
    assert response[2] is not None and response[5] is not None  # member id, submitted_at


async def test_deleted_rows_are_overwritten_not_left_in_free_pages(database):
    # Drafts hold an unfinished anonymous response next to the member id until submission;
    # with secure_delete their bytes are zeroed on deletion rather than left recoverable.
    if not database.is_sqlite:
        pytest.skip("SQLite's secure_delete (PostgreSQL: VACUUM reclaims dead rows)")
    async with database.engine.connect() as connection:
        assert (await connection.exec_driver_sql("PRAGMA secure_delete")).scalar() == 1


# --- the k rule counts the people who can answer, and every export and breakdown applies it ---

OFFICER = TgUser(id=7201)


async def open_anonymous(app, database) -> int:
    async with unit_of_work(database.sessions) as repos:
        survey, _ = await SurveyService(repos).import_definition(ANONYMOUS, "anon.toml")
        await SurveyService(repos).open(survey.slug)
    await app.flush_outbox()
    return survey.id


async def officer_export(app, survey_id: int) -> list[tuple]:
    """The rows of the XLSX the officer gets from the 📥 Export button, header first."""
    import io

    from aiogram.methods import SendDocument
    from openpyxl import load_workbook

    exported = await app.press(
        OFFICER, SurveyAdminCB(action=SurveyAdminAction.EXPORT, survey_id=survey_id)
    )
    (document,) = [r for r in exported.requests if isinstance(r, SendDocument)]
    workbook = load_workbook(io.BytesIO(document.document.data))
    return list(workbook.active.iter_rows(values_only=True))


async def test_the_only_registered_member_of_a_department_is_not_stamped_on_their_answer(
    app, database
):
    # Six people in 档案馆 on the roster, one of them registered: however big the roster, she
    # is the only one who can answer, so her department would name her.
    roster = [(f"D{i}", f"档案{i}", SMALL_DEPARTMENT, "") for i in range(1, 7)]
    await seed_roster(database, [*roster, ("O1", "干部", "工会办公室", "officer")])
    alone = TgUser(id=7202)
    await register(app, alone, "D1", "档案1")
    await register(app, OFFICER, "O1", "干部")
    survey_id = await open_anonymous(app, database)
    await answer(app, alone, survey_id, 2, "馆里的暖气坏了一冬天")

    (response,) = (await dump(database))["survey_responses"]
    assert response[3] is None  # no department stored
    rows = await officer_export(app, survey_id)
    assert rows[0][:2] == ("department", "submitted_on")
    (row,) = rows[1:]
    assert row[0] is None and "馆里的暖气坏了一冬天" in row
    results = await app.press(
        OFFICER, SurveyAdminCB(action=SurveyAdminAction.RESULTS, survey_id=survey_id)
    )
    assert "馆里的暖气坏了一冬天" in results.text and SMALL_DEPARTMENT not in results.text


async def test_a_department_fewer_than_k_respondents_share_is_blanked_everywhere(app, database):
    # 机电学院: ten registered, so its department is stored, but only four answer; 外语学院:
    # five registered, five answer (k = 5).
    few = [(TgUser(id=7300 + i), f"J{i}", f"机电{i}", "机电学院") for i in range(10)]
    many = [(TgUser(id=7400 + i), f"W{i}", f"外语{i}", "外语学院") for i in range(5)]
    people = few + many
    await seed_roster(
        database,
        [(e, n, d, "") for _, e, n, d in people] + [("O1", "干部", "工会办公室", "officer")],
    )
    for user, employee_id, name, _ in people:
        await register(app, user, employee_id, name)
    await register(app, OFFICER, "O1", "干部")
    survey_id = await open_anonymous(app, database)
    for user, employee_id, _, _ in few[:4] + many:
        await answer(app, user, survey_id, 4, f"意见-{employee_id}")

    stored = sorted(r[3] for r in (await dump(database))["survey_responses"])
    assert stored == ["外语学院"] * 5 + ["机电学院"] * 4  # both big enough to store

    rows = await officer_export(app, survey_id)
    by_text = {row[-1]: row[0] for row in rows[1:]}
    assert len(by_text) == 9
    for _, employee_id, _, _ in few[:4]:
        assert by_text[f"意见-{employee_id}"] is None  # four respondents: blanked
    for _, employee_id, _, _ in many:
        assert by_text[f"意见-{employee_id}"] == "外语学院"  # five: shown
    assert not any("机电学院" in str(cell) for row in rows for cell in row)

    results = await app.press(
        OFFICER, SurveyAdminCB(action=SurveyAdminAction.RESULTS, survey_id=survey_id)
    )
    assert "• 外语学院：平均 4（5 人）" in results.text
    assert "机电学院" not in results.text  # merged, and the merged four stay below k
