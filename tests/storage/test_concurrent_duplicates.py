"""Two copies of one update handled at the same moment (Telegram redelivers a webhook while the
first copy is still running; the soak's duplicate deliveries): the copy that loses the race is
a duplicate, not a failure. Found by bench.soak: a follow-up delivered twice logged an
IntegrityError and told the person to try again, though the first copy had saved it."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage
from aiogram.types import Update
from sqlalchemy.exc import IntegrityError

from bot.middlewares import DatabaseMiddleware
from storage.database import Database
from storage.models import Member
from storage.uow import Repositories, unit_of_work

UPDATE_ID = 4242


class Membership:
    async def identify(self, _telegram_id: int) -> None:
        return None


class StubServices:
    """Only what DatabaseMiddleware asks of the services for an update without a sender."""

    def membership(self, _repos: Repositories) -> Membership:
        return Membership()

    def for_update(self, _repos: Repositories) -> None:
        return None


def update() -> Update:
    return Update.model_validate({"update_id": UPDATE_ID})


async def members(database: Database) -> list[str]:
    async with unit_of_work(database.sessions) as repos:
        return [m.employee_id for m in await repos.members.list_all()]


async def test_the_copy_whose_rows_collide_with_the_first_copys_is_skipped(
    database: Database,
) -> None:
    middleware = DatabaseMiddleware(database, StubServices())  # type: ignore[arg-type]

    async def handler(_event: Any, data: dict[str, Any]) -> str:
        # The other copy of the same update gets there first and commits, marker included.
        async with database.sessions() as session:
            first = Repositories(session, update_id=UPDATE_ID, channel=database.channel)
            await first.members.upsert("1001", "张三", "教务处", None)
            await first.commit()
        # This copy writes the same row: the unique index refuses it before our marker could.
        repos: Repositories = data["repos"]
        repos.session.add(Member(employee_id="1001", name="张三", department="教务处"))
        await repos.session.flush()
        return "replied"

    assert await middleware(handler, update(), {}) is None  # no error for the person
    assert await members(database) == ["1001"]  # the first copy's effect, once


async def test_an_integrity_error_of_an_update_not_processed_elsewhere_is_a_failure(
    database: Database,
) -> None:
    middleware = DatabaseMiddleware(database, StubServices())  # type: ignore[arg-type]
    async with unit_of_work(database.sessions) as repos:
        await repos.members.upsert("1001", "张三", "教务处", None)
        await repos.commit()

    async def handler(_event: Any, data: dict[str, Any]) -> str:
        repos: Repositories = data["repos"]
        repos.session.add(Member(employee_id="1001", name="张三", department="教务处"))
        await repos.session.flush()
        return "replied"

    with pytest.raises(IntegrityError):  # a real bug stays loud
        await middleware(handler, update(), {})


async def seen(database: Database) -> bool:
    async with database.sessions() as session:
        return await Repositories(session).updates.seen(UPDATE_ID)


async def test_a_step_whose_answer_telegram_refused_is_not_done_again(database: Database) -> None:
    """Found by the soak: a letter part delivered twice while Telegram answered 502. The first
    copy added the part to the draft, its answer was refused after every retry, the update was
    not recorded, and the second copy added the part again."""
    middleware = DatabaseMiddleware(database, StubServices())  # type: ignore[arg-type]
    done: list[str] = []

    async def handler(_event: Any, _data: dict[str, Any]) -> None:
        done.append("part added")  # kept apart from the update's transaction, as a draft is
        reply = SendMessage(chat_id=1, text="已收到")
        raise TelegramServerError(method=reply, message="Bad Gateway")

    with pytest.raises(TelegramServerError):  # the error router logs it
        await middleware(handler, update(), {})
    assert await seen(database), "recorded as processed"
    assert await middleware(handler, update(), {}) is None  # Telegram's redelivery
    assert done == ["part added"]
