"""The answer path's one-hop unit of work (storage/hot.py) on SQLite's channel and, through the
session, on PostgreSQL: buffered writes, guarded writes, the marker, and the per-process cache
that must never serve a revoked role or a closed survey."""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite
import pytest
from sqlalchemy import func, select

from common.errors import WriteConflict
from members.roles import Role
from storage.database import Database, create_database
from storage.models import ProcessedUpdate, SurveyAnswer, SurveyDraft, SurveyResponse
from storage.uow import DuplicateUpdate, Repositories, unit_of_work
from surveys.model import AnswerRow

SOURCE = (
    'id = "s"\ntitle = "T"\nanonymous = true\n[[questions]]\nid = "q"\ntype = "scale"\ntext = "Q"\n'
)


def repos_for(database: Database, session, update_id: int | None = None) -> Repositories:  # type: ignore[no-untyped-def]
    # As the bot's middleware builds them: with the database's channel (SQLite file only).
    return Repositories(session, update_id=update_id, channel=database.channel)


async def count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def seed(database: Database) -> tuple[int, int]:
    """One member linked to Telegram id 42, one survey; (member id, survey id)."""
    from surveys.service import SurveyService

    async with unit_of_work(database.sessions) as repos:
        await repos.members.upsert("1001", "张三", "教务处", None)
        found = await repos.members.get_by_employee_id("1001")
        assert found is not None
        member_id = found.id
        await repos.members.link_telegram(member_id, 42, locale="zh", consent_version=1,
                                          now=datetime.now(UTC))  # fmt: skip
        await repos.commit()
        survey, _ = await SurveyService(repos).import_definition(SOURCE, "s.toml")
    return member_id, survey.id


def test_aiosqlite_still_has_what_the_channel_uses() -> None:
    # storage/hot.py relies on these two private names; a new aiosqlite must be checked first.
    assert callable(getattr(aiosqlite.Connection, "_execute", None))
    assert isinstance(getattr(aiosqlite.Connection, "_conn", None), property)


def test_the_channel_exists_only_for_a_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert create_database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").channel is not None
    assert create_database("sqlite+aiosqlite://").channel is None


async def test_buffered_writes_are_stored_with_the_marker_or_not_at_all(
    database: Database,
) -> None:
    member_id, survey_id = await seed(database)
    async with database.sessions() as session:
        repos = repos_for(database, session, update_id=1)
        repos.surveys.stage_draft(survey_id, member_id, {"q": 3}, None)
        assert await count(database, SurveyDraft) == 0  # buffered: nothing before the commit
        await repos.commit()
    assert await count(database, SurveyDraft) == 1

    async with database.sessions() as session:
        repos = repos_for(database, session, update_id=1)  # the same update again
        repos.surveys.stage_draft_deletion(survey_id, member_id)
        with pytest.raises(DuplicateUpdate):
            await repos.commit()
    assert await count(database, SurveyDraft) == 1  # the deletion was rolled back with it
    assert await count(database, ProcessedUpdate) == 1


async def test_a_second_submission_stores_nothing(database: Database) -> None:
    member_id, survey_id = await seed(database)
    for update_id in (1, 2):
        async with database.sessions() as session:
            repos = repos_for(database, session, update_id=update_id)
            repos.surveys.stage_done(survey_id, member_id)
            repos.surveys.stage_response(
                survey_id,
                member_id=None,
                department=None,
                submitted_on=datetime.now(UTC).date(),
                submitted_at=None,
                answers=[AnswerRow("q", number=3.0)],
            )
            if update_id == 1:
                await repos.commit()
            else:
                with pytest.raises(WriteConflict):
                    await repos.commit()
    assert await count(database, SurveyResponse) == 1
    assert await count(database, SurveyAnswer) == 1
    assert await count(database, ProcessedUpdate) == 1  # the refused update left no marker


async def test_draft_round_trip_keeps_the_stored_answers(database: Database) -> None:
    member_id, survey_id = await seed(database)
    async with database.sessions() as session:
        repos = repos_for(database, session, update_id=5)
        repos.surveys.stage_draft(survey_id, member_id, {"q": 4, "text": "食堂"}, "q")
        await repos.commit()
    async with database.sessions() as session:
        survey, done, draft = await repos_for(database, session).surveys.answer_context(
            survey_id, member_id
        )
    assert survey is not None and survey.status == "draft" and not done
    assert draft is not None and draft.answers == {"q": 4, "text": "食堂"} and draft.editing == "q"
    async with database.sessions() as session:
        updated_at = await session.scalar(select(SurveyDraft.updated_at))
    assert updated_at is not None and updated_at.tzinfo is not None  # UTC-aware, as the ORM's


async def test_a_revoked_role_is_not_served_from_the_cache(db_url: str) -> None:
    """The bot caches identities per process (SQLite); another process — the CLI — revokes
    the officer role. The very next update must see the member without it."""
    bot_db, cli_db = create_database(db_url), create_database(db_url)
    try:
        member_id, _ = await seed(bot_db)
        async with unit_of_work(cli_db.sessions) as repos:
            await repos.members.set_roles(member_id, [Role.OFFICER])
            await repos.commit()
        for _ in range(2):  # the second read may come from the cache
            async with bot_db.sessions() as session:
                member = await repos_for(bot_db, session).members.get_by_telegram_id(42)
            assert member is not None and Role.OFFICER in member.roles
        async with unit_of_work(cli_db.sessions) as repos:
            await repos.members.set_roles(member_id, [])
            await repos.commit()
        async with bot_db.sessions() as session:
            member = await repos_for(bot_db, session).members.get_by_telegram_id(42)
        assert member is not None and Role.OFFICER not in member.roles
    finally:
        await bot_db.dispose()
        await cli_db.dispose()


async def test_a_closed_survey_is_not_served_from_the_cache(db_url: str) -> None:
    from surveys.service import SurveyService

    bot_db, cli_db = create_database(db_url), create_database(db_url)
    try:
        member_id, survey_id = await seed(bot_db)
        async with bot_db.sessions() as session:
            survey, _, _ = await repos_for(bot_db, session).surveys.answer_context(
                survey_id, member_id
            )
        assert survey is not None and survey.status == "draft"
        async with unit_of_work(cli_db.sessions) as repos:
            await SurveyService(repos).open("s")
            await repos.commit()
            await SurveyService(repos).close("s")
        async with bot_db.sessions() as session:
            survey, _, _ = await repos_for(bot_db, session).surveys.answer_context(
                survey_id, member_id
            )
        assert survey is not None and survey.status == "closed"
    finally:
        await bot_db.dispose()
        await cli_db.dispose()


async def test_the_k_rule_count_follows_a_registration_elsewhere(db_url: str) -> None:
    """The department count behind the small-group rule is cached per process (SQLite): a
    colleague registering through another process must change it at once, or an anonymous
    answer could be stored with a department that singles its sender out."""
    bot_db, cli_db = create_database(db_url), create_database(db_url)
    try:
        await seed(bot_db)
        async with bot_db.sessions() as session:
            peers = await repos_for(bot_db, session).surveys.can_answer_in_department(
                ["all"], "教务处"
            )
        assert peers == 1
        async with unit_of_work(cli_db.sessions) as repos:
            await repos.members.upsert("1002", "李四", "教务处", None)
            found = await repos.members.get_by_employee_id("1002")
            assert found is not None
            await repos.members.link_telegram(found.id, 43, locale="zh", consent_version=1,
                                              now=datetime.now(UTC))  # fmt: skip
            await repos.commit()
        async with bot_db.sessions() as session:
            peers = await repos_for(bot_db, session).surveys.can_answer_in_department(
                ["all"], "教务处"
            )
        assert peers == 2
    finally:
        await bot_db.dispose()
        await cli_db.dispose()


async def test_a_checkpoint_leaves_concurrent_answers_on_the_loop(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write-ahead log is checkpointed on another connection: answers committed meanwhile
    neither wait for it on the channel's thread nor get lost."""
    import asyncio

    import storage.hot as hot

    database = create_database(db_url)
    if database.channel is None:
        await database.dispose()
        pytest.skip("PostgreSQL has no channel and no write-ahead log of ours to checkpoint")
    on_thread: list[int] = []
    waiting = hot._waiting
    monkeypatch.setattr(hot, "_waiting", lambda c, work: on_thread.append(1) or waiting(c, work))
    monkeypatch.setattr(database.channel, "CHECKPOINT_EVERY", 3)
    try:
        member_id, survey_id = await seed(database)

        async def answer(update_id: int) -> None:
            async with database.sessions() as session:
                repos = repos_for(database, session, update_id=update_id)
                repos.surveys.stage_draft(survey_id, member_id, {"q": update_id % 5 + 1}, None)
                await repos.commit()

        await asyncio.gather(*(answer(update_id) for update_id in range(1, 61)))
    finally:
        await database.dispose()  # waits for a checkpoint still running
    database = create_database(db_url)
    try:
        assert await count(database, ProcessedUpdate) == 60
        assert await count(database, SurveyDraft) == 1
    finally:
        await database.dispose()
    assert on_thread == []
