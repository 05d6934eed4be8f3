"""Survey answers through the full bot vs. a bare aiogram echo bot, same updates, same run.

    python -m bench.survey_bench [--members 200] [--questions 10] [--concurrency 1]

Every answer is durable (committed to SQLite) before the bot's reply is sent. Prints answers/s
for both, the ratio, and peak memory. No network: both bots use a recording Bot session.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.callbacks import SurveyAction, SurveyCB
from bot.config import parse_config
from bot.factory import create_dispatcher
from bot.i18n import create_i18n
from members.roster import RosterRow
from members.service import MembershipService
from storage import migrate
from storage.database import create_database
from storage.uow import unit_of_work
from surveys.service import SurveyService
from tests.fakes.session import BOT_USER, RecordingSession


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def survey_source(questions: int) -> str:
    parts = ['id = "bench"', 'title = "基准问卷"', "anonymous = true", ""]
    for index in range(questions):
        parts += [
            "[[questions]]",
            f'id = "q{index}"',
            'type = "scale"',
            f'text = "第 {index + 1} 题：满意度？"',
            "",
        ]
    return "\n".join(parts)


def callback_update(update_id: int, user_id: int, data: str) -> Update:
    message = Message(
        message_id=update_id,
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=BOT_USER,
        text="…",
    )
    query = CallbackQuery(
        id=str(update_id),
        from_user=User(id=user_id, is_bot=False, first_name="T", language_code="zh"),
        chat_instance="bench",
        data=data,
        message=message,
    )
    return Update(update_id=update_id, callback_query=query)


def answer_updates(members: int, questions: int, survey_id: int, first_user: int) -> list[Update]:
    """Per member: start, one scale answer per question, submit — interleaved across members
    the way real traffic arrives."""
    updates: list[Update] = []
    update_id = 1
    steps = [SurveyCB(action=SurveyAction.START, survey_id=survey_id)]
    steps += [
        SurveyCB(action=SurveyAction.RATE, survey_id=survey_id, position=q + 1, value=1 + q % 5)
        for q in range(questions)
    ]
    steps += [SurveyCB(action=SurveyAction.SUBMIT, survey_id=survey_id)]
    for step in steps:
        for member in range(members):
            updates.append(callback_update(update_id, first_user + member, step.pack()))
            update_id += 1
    return updates


async def prepare_database(path: Path, members: int, questions: int, first_user: int) -> int:
    url = f"sqlite+aiosqlite:///{path}"
    database = create_database(url)
    await migrate.upgrade(database.engine)
    async with unit_of_work(database.sessions) as repos:
        await MembershipService(repos).import_roster(
            [
                RosterRow(
                    line=i, employee_id=f"B{i}", name=f"会员{i}", department="机电学院", roles=None
                )
                for i in range(members)
            ]
        )
        for i in range(members):
            member = await repos.members.get_by_employee_id(f"B{i}")
            assert member is not None
            await repos.members.link_telegram(
                member.id, first_user + i, locale="zh", consent_version=1, now=datetime.now(UTC)
            )
        await repos.commit()
        survey, _ = await SurveyService(repos).import_definition(survey_source(questions), "b")
        await SurveyService(repos).open(survey.slug)
    await database.dispose()
    return survey.id


async def run_updates(
    dispatcher: Dispatcher, bot: Bot, updates: list[Update], concurrency: int
) -> float:
    started = time.perf_counter()
    if concurrency == 1:
        for update in updates:
            await dispatcher.feed_update(bot, update)
    else:
        for start in range(0, len(updates), concurrency):
            await asyncio.gather(
                *(dispatcher.feed_update(bot, u) for u in updates[start : start + concurrency])
            )
    return time.perf_counter() - started


def echo_dispatcher() -> Dispatcher:
    """aiogram's bare echo bot: answer every button press and every message."""
    router = Router()

    @router.callback_query()
    async def echo_button(callback: CallbackQuery) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_text(callback.data or "")

    @router.message()
    async def echo(message: Message) -> None:
        await message.send_copy(message.chat.id)

    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(router)
    return dispatcher


async def main(members: int, questions: int, concurrency: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="unionvoice-bench-"))
    try:
        first_user = 10_000
        survey_id = await prepare_database(workdir / "bench.db", members, questions, first_user)
        updates = answer_updates(members, questions, survey_id, first_user)
        answers = members * questions

        echo_bot = Bot("42:TEST", session=RecordingSession())
        echo_seconds = await run_updates(echo_dispatcher(), echo_bot, updates, concurrency)

        config = parse_config(
            {
                "telegram": {"token": "42:TEST"},
                "database": {"url": f"sqlite+aiosqlite:///{workdir / 'bench.db'}"},
            }
        )
        database = create_database(config.database.url)
        bot = Bot("42:TEST", session=RecordingSession())
        dispatcher = create_dispatcher(config, database, bot, i18n=create_i18n("zh"))
        gc.collect()
        rss_before = _max_rss_mb()
        ours_seconds = await run_updates(dispatcher, bot, updates, concurrency)

        async with database.sessions() as session:
            from sqlalchemy import func, select

            from storage.models import SurveyAnswer, SurveyResponse

            responses = await session.scalar(select(func.count()).select_from(SurveyResponse))
            stored = await session.scalar(select(func.count()).select_from(SurveyAnswer))
        await database.dispose()
        assert responses == members and stored == answers, (responses, stored)

        total = len(updates)
        echo_rate, ours_rate = total / echo_seconds, total / ours_seconds
        print(
            f"survey bench: {members} members × {questions} questions = {answers} answers "
            f"({total} updates incl. start/submit), concurrency {concurrency}, SQLite WAL"
        )
        print(f"  bare aiogram echo bot : {echo_rate:8.0f} updates/s")
        print(
            f"  unionvoice (durable)  : {ours_rate:8.0f} updates/s  "
            f"({answers / ours_seconds:.0f} answers/s)"
        )
        print(f"  ratio                 : {ours_rate / echo_rate:8.2f}  (goal ≥ 0.5)")
        print(
            f"  peak memory (max RSS) : {_max_rss_mb():8.0f} MB "
            f"({rss_before:.0f} MB before the unionvoice run)"
        )
        print(f"  stored                : {responses} responses, {stored} answers (all durable)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.questions, args.concurrency))
