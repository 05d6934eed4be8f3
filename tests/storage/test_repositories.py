"""Repositories and the unit of work against a real, migrated SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from members.dto import APPROVED, PENDING, REJECTED
from members.roles import Role
from storage.base import UTCDateTime
from storage.database import Database
from storage.models import Member, ProcessedUpdate
from storage.repos.updates import ProcessedUpdateRepository
from storage.uow import DuplicateUpdate, Repositories, unit_of_work

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


async def add_member(database: Database, employee_id: str = "1001", name: str = "张三") -> int:
    async with unit_of_work(database.sessions) as repos:
        await repos.members.upsert(employee_id, name, "教务处", [Role.MEMBER])
        await repos.commit()
        member = await repos.members.get_by_employee_id(employee_id)
    assert member is not None
    return member.id


async def count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


# --- processed updates and the deferred marker -------------------------------------------


async def test_mark_true_then_false(database: Database) -> None:
    async with database.sessions() as session:
        updates = ProcessedUpdateRepository(session)
        assert await updates.mark(1) is True
        assert await updates.mark(1) is False
        assert await updates.mark(2) is True
        await session.commit()
    async with database.sessions() as session:
        updates = ProcessedUpdateRepository(session)
        assert await updates.seen(1)
        assert await updates.seen(2)
        assert not await updates.seen(3)
        assert await updates.mark(1) is False


async def test_commit_writes_marker_once(database: Database) -> None:
    async with database.sessions() as session:
        repos = Repositories(session, update_id=500)
        assert not await repos.updates.seen(500)  # deferred: nothing written before commit
        await repos.commit()
        await repos.commit()  # a second commit in the same unit does not re-mark
    assert await count(database, ProcessedUpdate) == 1
    async with database.sessions() as session:
        assert await ProcessedUpdateRepository(session).seen(500)


async def test_commit_without_update_id_writes_no_marker(database: Database) -> None:
    async with database.sessions() as session:
        await Repositories(session).commit()
    assert await count(database, ProcessedUpdate) == 0


async def test_duplicate_update_rolls_back_its_effects(database: Database) -> None:
    async with database.sessions() as session:
        repos = Repositories(session, update_id=7)
        await repos.members.upsert("1001", "张三", "教务处", None)
        await repos.commit()

    async with database.sessions() as session:
        repos = Repositories(session, update_id=7)  # the same update, redelivered
        await repos.members.upsert("1002", "李四", "人事处", None)
        await repos.members.upsert("1001", "张三丰", "教务处", None)
        with pytest.raises(DuplicateUpdate) as caught:
            await repos.commit()
        assert caught.value.args == (7,)

    async with unit_of_work(database.sessions) as repos:
        assert [m.employee_id for m in await repos.members.list_all()] == ["1001"]
        member = await repos.members.get_by_employee_id("1001")
        assert member is not None and member.name == "张三"
    assert await count(database, ProcessedUpdate) == 1


async def test_unit_of_work_rolls_back_unless_committed(database: Database) -> None:
    async with unit_of_work(database.sessions) as repos:
        await repos.members.upsert("1001", "张三", "教务处", None)
    assert await count(database, Member) == 0


# --- UTCDateTime -------------------------------------------------------------------------


async def test_utc_datetime_round_trip_is_aware_utc(database: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    member_id = await add_member(database)
    async with unit_of_work(database.sessions) as repos:
        linked = await repos.members.link_telegram(
            member_id,
            555,
            locale="zh",
            consent_version=1,
            now=datetime(2026, 3, 1, 16, 30, tzinfo=beijing),
        )
        assert linked
        await repos.commit()

    async with database.sessions() as session:
        member = await session.get_one(Member, member_id)
        assert member.registered_at == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
        assert member.registered_at is not None and member.registered_at.tzinfo is UTC
        assert member.created_at.tzinfo is UTC
        raw = await session.scalar(text("SELECT registered_at FROM members"))
    assert str(raw).startswith("2026-03-01 08:30:00")  # stored as UTC wall time


async def test_utc_datetime_rejects_naive(database: Database) -> None:
    member_id = await add_member(database)
    async with unit_of_work(database.sessions) as repos:
        with pytest.raises(Exception, match="naive datetime") as caught:
            await repos.members.link_telegram(
                member_id, 555, locale="zh", consent_version=1, now=datetime(2026, 3, 1, 8)
            )
        # SQLAlchemy wraps the ValueError raised while binding the parameter.
        assert isinstance(caught.value, ValueError) or isinstance(
            caught.value.__cause__, ValueError
        )


def test_utc_datetime_type_directly() -> None:
    from sqlalchemy.dialects import sqlite

    column_type = UTCDateTime()
    dialect = sqlite.dialect()
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2026, 1, 1), dialect)
    plus8 = datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    assert column_type.process_bind_param(plus8, dialect) == datetime(2026, 1, 1, 0)
    assert column_type.process_bind_param(None, dialect) is None
    back = column_type.process_result_value(datetime(2026, 1, 1, 0), dialect)
    assert back == datetime(2026, 1, 1, tzinfo=UTC) and back is not None and back.tzinfo is UTC
    assert column_type.process_result_value(None, dialect) is None


# --- members -----------------------------------------------------------------------------


async def test_link_telegram_only_once(database: Database) -> None:
    member_id = await add_member(database)
    async with unit_of_work(database.sessions) as repos:
        assert await repos.members.link_telegram(
            member_id, 555, locale="zh", consent_version=1, now=NOW
        )
        await repos.commit()

    async with unit_of_work(database.sessions) as repos:
        assert not await repos.members.link_telegram(
            member_id, 666, locale="en", consent_version=2, now=NOW + timedelta(days=1)
        )
        assert not await repos.members.link_telegram(
            member_id, 555, locale="en", consent_version=2, now=NOW + timedelta(days=1)
        )
        await repos.commit()

    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get(member_id)
        assert member is not None
        assert member.telegram_id == 555
        assert member.locale == "zh"
        assert member.registered_at == NOW
        assert await repos.members.get_by_telegram_id(666) is None


async def test_link_unknown_member_returns_false(database: Database) -> None:
    async with unit_of_work(database.sessions) as repos:
        assert not await repos.members.link_telegram(
            12345, 555, locale=None, consent_version=1, now=NOW
        )


async def test_one_telegram_account_cannot_link_two_members(database: Database) -> None:
    first = await add_member(database, "1001")
    second = await add_member(database, "1002", "李四")
    async with unit_of_work(database.sessions) as repos:
        linked = await repos.members.link_telegram(
            first, 555, locale=None, consent_version=1, now=NOW
        )
        assert linked
        await repos.commit()
    async with unit_of_work(database.sessions) as repos:
        with pytest.raises(IntegrityError, match=r"(?i)unique"):
            await repos.members.link_telegram(second, 555, locale=None, consent_version=1, now=NOW)


# --- invites -----------------------------------------------------------------------------


async def test_invite_redeems_once(database: Database) -> None:
    member_id = await add_member(database)
    async with unit_of_work(database.sessions) as repos:
        await repos.invites.create(member_id, "a" * 64, expires_at=NOW + timedelta(days=7))
        await repos.commit()

    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("a" * 64, NOW) == member_id
        await repos.commit()
    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("a" * 64, NOW + timedelta(minutes=1)) is None


async def test_invite_expired(database: Database) -> None:
    member_id = await add_member(database)
    expires = NOW + timedelta(days=7)
    async with unit_of_work(database.sessions) as repos:
        await repos.invites.create(member_id, "b" * 64, expires_at=expires)
        await repos.commit()
    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("b" * 64, expires) is None  # the end is exclusive
        assert await repos.invites.redeem("b" * 64, expires + timedelta(seconds=1)) is None
        # Comparison is on instants, not wall clock: 1 s before expiry, in UTC+8, still works.
        beijing = (expires - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=8)))
        assert await repos.invites.redeem("b" * 64, beijing) == member_id


async def test_unknown_invite(database: Database) -> None:
    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("c" * 64, NOW) is None


async def test_redeemed_but_rolled_back_invite_is_still_valid(database: Database) -> None:
    member_id = await add_member(database)
    async with unit_of_work(database.sessions) as repos:
        await repos.invites.create(member_id, "d" * 64, expires_at=NOW + timedelta(days=1))
        await repos.commit()
    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("d" * 64, NOW) == member_id
        await repos.rollback()
    async with unit_of_work(database.sessions) as repos:
        assert await repos.invites.redeem("d" * 64, NOW) == member_id


# --- registration requests ---------------------------------------------------------------


async def test_decide_first_wins(database: Database) -> None:
    officer_a = await add_member(database, "9001", "官员甲")
    officer_b = await add_member(database, "9002", "官员乙")
    async with unit_of_work(database.sessions) as repos:
        request = await repos.registrations.create(777, "1234", "王五", "zh", 1)
        await repos.commit()
    assert request.status == PENDING

    async with unit_of_work(database.sessions) as repos:
        assert await repos.registrations.pending_for(777) == request
        assert await repos.registrations.decide(request.id, APPROVED, officer_a, NOW)
        await repos.commit()
    async with unit_of_work(database.sessions) as repos:
        assert not await repos.registrations.decide(request.id, REJECTED, officer_b, NOW)
        assert not await repos.registrations.decide(request.id, APPROVED, officer_b, NOW)
        await repos.commit()

    async with unit_of_work(database.sessions) as repos:
        decided = await repos.registrations.get(request.id)
        assert decided is not None and decided.status == APPROVED
        assert await repos.registrations.pending_for(777) is None
        assert await repos.registrations.list_pending() == []
        row = (
            await repos.session.execute(
                text(
                    "SELECT decided_by_member_id FROM registration_requests WHERE id = :id"
                ).bindparams(id=request.id)
            )
        ).scalar_one()
    assert row == officer_a


async def test_decide_unknown_request(database: Database) -> None:
    async with unit_of_work(database.sessions) as repos:
        assert not await repos.registrations.decide(999, APPROVED, None, NOW)


async def test_decided_by_is_nulled_when_officer_deleted(database: Database) -> None:
    officer = await add_member(database, "9001", "官员甲")
    async with unit_of_work(database.sessions) as repos:
        request = await repos.registrations.create(777, "1234", "王五", None, 1)
        assert await repos.registrations.decide(request.id, REJECTED, officer, NOW)
        await repos.commit()
    async with database.sessions() as session:
        await session.execute(text("DELETE FROM members WHERE id = :id").bindparams(id=officer))
        await session.commit()
        by = await session.scalar(text("SELECT decided_by_member_id FROM registration_requests"))
    assert by is None  # ON DELETE SET NULL works: foreign keys are on
