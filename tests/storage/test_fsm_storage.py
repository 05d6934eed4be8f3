"""SQLStorage: aiogram FSM state and data kept in the database across restarts."""

from __future__ import annotations

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from storage.database import Database, create_database
from storage.fsm import SQLStorage
from storage.models import FsmRecord

BOT_ID = 42


class Form(StatesGroup):
    employee_id = State()
    name = State()


def key(user_id: int = 1001, chat_id: int | None = None) -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=chat_id or user_id, user_id=user_id)


@pytest.fixture
def storage(database: Database) -> SQLStorage:
    return SQLStorage(database.sessions)


async def row_count(database: Database) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(FsmRecord)) or 0


async def test_empty_key(storage: SQLStorage) -> None:
    assert await storage.get_state(key()) is None
    assert await storage.get_data(key()) == {}
    assert await storage.get_value(key(), "missing", "fallback") == "fallback"


async def test_state_object_and_string(storage: SQLStorage) -> None:
    await storage.set_state(key(), Form.employee_id)
    assert await storage.get_state(key()) == "Form:employee_id"
    assert await storage.get_state(key()) == Form.employee_id.state

    await storage.set_state(key(), "Form:name")
    assert await storage.get_state(key()) == Form.name.state


async def test_state_change_keeps_data(storage: SQLStorage) -> None:
    await storage.set_data(key(), {"a": 1})
    await storage.set_state(key(), Form.name)
    await storage.set_state(key(), Form.employee_id)
    assert await storage.get_data(key()) == {"a": 1}
    await storage.set_state(key(), None)
    assert await storage.get_state(key()) is None
    assert await storage.get_data(key()) == {"a": 1}


async def test_data_round_trip_with_chinese_and_nesting(storage: SQLStorage) -> None:
    data = {
        "name": "张三",
        "department": "教务处（本部）",
        "answers": {"q1": ["非常满意", "满意"], "q2": {"text": "希望增加食堂窗口 🍜", "n": 3}},
        "flag": True,
        "none": None,
        "ratio": 0.5,
    }
    await storage.set_data(key(), data)
    assert await storage.get_data(key()) == data
    assert await storage.get_value(key(), "name") == "张三"


async def test_chinese_is_stored_readable(storage: SQLStorage, database: Database) -> None:
    await storage.set_data(key(), {"name": "张三"})
    async with database.sessions() as session:
        raw = await session.scalar(select(FsmRecord.data))
    assert raw is not None
    assert "张三" in raw  # ensure_ascii=False: no \\u escapes


async def test_update_data_merges(storage: SQLStorage) -> None:
    await storage.set_data(key(), {"a": 1, "nested": {"x": 1}})
    merged = await storage.update_data(key(), {"b": "二", "nested": {"y": 2}})
    assert merged == {"a": 1, "b": "二", "nested": {"y": 2}}  # shallow merge, like aiogram's
    assert await storage.get_data(key()) == merged


async def test_update_data_on_empty_key(storage: SQLStorage) -> None:
    assert await storage.update_data(key(), {"x": "一"}) == {"x": "一"}
    assert await storage.get_data(key()) == {"x": "一"}


async def test_clearing_state_and_data_leaves_no_row(
    storage: SQLStorage, database: Database
) -> None:
    await storage.set_state(key(), Form.name)
    await storage.set_data(key(), {"name": "张三"})
    assert await row_count(database) == 1

    # FSMContext.clear() order: state first, then data.
    await storage.set_state(key(), None)
    await storage.set_data(key(), {})
    assert await row_count(database) == 0
    assert await storage.get_state(key()) is None
    assert await storage.get_data(key()) == {}


async def test_clearing_in_the_other_order_leaves_no_row(
    storage: SQLStorage, database: Database
) -> None:
    await storage.set_state(key(), Form.name)
    await storage.set_data(key(), {"name": "张三"})
    await storage.set_data(key(), {})
    assert await row_count(database) == 1  # state still set
    await storage.set_state(key(), None)
    assert await row_count(database) == 0


async def test_clearing_an_unknown_key_leaves_no_row(
    storage: SQLStorage, database: Database
) -> None:
    await storage.set_state(key(), None)
    await storage.set_data(key(), {})
    assert await row_count(database) == 0


async def test_data_survives_restart(db_url: str) -> None:
    first = create_database(db_url)
    try:
        storage = SQLStorage(first.sessions)
        await storage.set_state(key(), Form.name)
        await storage.set_data(key(), {"employee_id": "1001", "name": "李四"})
        await storage.close()
    finally:
        await first.dispose()

    second = create_database(db_url)
    try:
        storage = SQLStorage(second.sessions)
        assert await storage.get_state(key()) == Form.name.state
        assert await storage.get_data(key()) == {"employee_id": "1001", "name": "李四"}
    finally:
        await second.dispose()


@pytest.mark.parametrize("bad", [["a", 1], "text", 1, None, (("a", 1),)])
async def test_non_dict_data_raises(storage: SQLStorage, database: Database, bad: object) -> None:
    with pytest.raises(TypeError):
        await storage.set_data(key(), bad)  # type: ignore[arg-type]
    assert await row_count(database) == 0


async def test_users_are_independent(storage: SQLStorage) -> None:
    alice, bob = key(1), key(2)
    await storage.set_state(alice, Form.name)
    await storage.set_data(alice, {"who": "alice"})
    await storage.set_state(bob, Form.employee_id)
    await storage.set_data(bob, {"who": "bob"})

    assert await storage.get_state(alice) == Form.name.state
    assert await storage.get_state(bob) == Form.employee_id.state
    assert await storage.get_data(alice) == {"who": "alice"}
    assert await storage.get_data(bob) == {"who": "bob"}

    await storage.set_state(alice, None)
    await storage.set_data(alice, {})
    assert await storage.get_state(bob) == Form.employee_id.state
    assert await storage.get_data(bob) == {"who": "bob"}


async def test_same_user_in_another_chat_is_independent(storage: SQLStorage) -> None:
    await storage.set_state(key(1), Form.name)
    assert await storage.get_state(key(1, chat_id=-100123)) is None
