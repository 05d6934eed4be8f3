"""Survey answers through the full bot vs. a bare aiogram echo bot, same updates, same run.

    python -m bench.survey_bench [--members 200] [--questions 10] [--concurrency 1]
        [--postgres postgresql+asyncpg://user@host:port/postgres] [--instances 2]

Every answer is durable (committed to SQLite) before the bot's reply is sent. The same updates
go, in the same run, through a bare aiogram echo bot and through the typical durable bot (plain
aiogram FSM with MemoryStorage, one handler per question, every answer committed with the
SQLAlchemy async ORM on aiosqlite, WAL + synchronous=NORMAL, in one short session before the
reply). Prints updates/s, `ratio` (unionvoice ÷ echo), `ratio vs durable baseline`, per-update
latency percentiles and peak memory. With --concurrency N > 1 unionvoice also runs one update at
a time on a fresh copy of the database, so burst and sequential compare within the run. No
network: every bot uses a recording Bot session.

With --postgres (a server URL; the bench creates and drops its own database), the same updates
also go through the bot on PostgreSQL: one instance, then --instances processes against the
one database, each handling its share of the members (as a reverse proxy would spread them).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.config import parse_config
from bot.factory import create_dispatcher
from bot.services import Services
from handlers.i18n import create_i18n
from handlers.survey_callbacks import SurveyAction, SurveyCB
from members.roster import RosterRow
from members.service import CONSENT_VERSION
from storage import migrate
from storage.database import create_database
from storage.uow import unit_of_work
from tests.fakes.session import BOT_USER, RecordingSession

# The bench never touches a real installation's key file (it seals nothing either).
BENCH_MAILBOX_KEY = "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI="


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
    return await prepare_database_at(f"sqlite+aiosqlite:///{path}", members, questions, first_user)


async def prepare_database_at(url: str, members: int, questions: int, first_user: int) -> int:
    database = create_database(url)
    await migrate.upgrade(database.engine)
    services = Services(parse_config({}))  # the default settings, as the benchmark's bot
    async with unit_of_work(database.sessions) as repos:
        await services.membership(repos).import_roster(
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
                member.id,
                first_user + i,
                locale="zh",
                consent_version=CONSENT_VERSION,
                now=datetime.now(UTC),
            )
        await repos.commit()
        surveys = services.surveys(repos)
        survey, _ = await surveys.import_definition(survey_source(questions), "b")
        await surveys.open(survey.slug)
    await database.dispose()
    return survey.id


async def run_updates(
    dispatcher: Dispatcher,
    bot: Bot,
    updates: list[Update],
    concurrency: int,
    latencies: list[float] | None = None,
) -> float:
    """Feed the updates `concurrency` at a time; each update's latency into `latencies`: from
    the moment its batch arrived (as one `getUpdates` answer brings them) to its reply, which
    is what a member in a burst waits, queueing included."""
    clock = time.perf_counter
    found = latencies if latencies is not None else []

    async def one(update: Update, arrived: float) -> None:
        await dispatcher.feed_update(bot, update)
        found.append(clock() - arrived)

    started = clock()
    if concurrency == 1:
        for update in updates:
            await one(update, clock())
    else:
        for start in range(0, len(updates), concurrency):
            arrived = clock()
            batch = updates[start : start + concurrency]
            await asyncio.gather(*(one(u, arrived) for u in batch))
    return clock() - started


def percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return f"p50 {at(0.50):.1f} ms · p95 {at(0.95):.1f} ms · p99 {at(0.99):.1f} ms"


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


# ------------------------------------------------------------------ the typical durable bot
class _BaselineBase(DeclarativeBase):
    pass


class _Answer(_BaselineBase):
    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    question: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer)


class _Submission(_BaselineBase):
    __tablename__ = "submissions"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)


_BASELINE_MODELS = (_BaselineBase, _Answer, _Submission)


def durable_baseline(path: Path, questions: int) -> tuple[Dispatcher, Any]:
    """What a typical developer writes: aiogram FSM in MemoryStorage, one handler per question
    (InlineKeyboardBuilder, CallbackData filters), and every answer committed through the
    SQLAlchemy async ORM on aiosqlite (WAL, synchronous=NORMAL) in one short session before
    the reply. No roles, consent, processed-update marker or durable conversation state."""
    from aiogram.filters import StateFilter
    from aiogram.fsm.context import FSMContext
    from aiogram.utils.keyboard import InlineKeyboardBuilder
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    Base, Answer, Submission = _BASELINE_MODELS
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    router = Router()

    def keyboard(survey_id: int, position: int) -> Any:
        builder = InlineKeyboardBuilder()
        for value in range(1, 6):
            builder.button(
                text=str(value),
                callback_data=SurveyCB(
                    action=SurveyAction.RATE, survey_id=survey_id, position=position, value=value
                ),
            )
        return builder.as_markup()

    @router.callback_query(SurveyCB.filter(F.action == SurveyAction.START))
    async def start(callback: CallbackQuery, callback_data: SurveyCB, state: FSMContext) -> None:
        await state.set_state("q0")
        await callback.answer()
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("1", reply_markup=keyboard(callback_data.survey_id, 1))

    def question_handler(index: int) -> Any:
        async def answer(
            callback: CallbackQuery, callback_data: SurveyCB, state: FSMContext
        ) -> None:
            async with sessions() as session:
                session.add(
                    Answer(
                        user_id=callback.from_user.id,
                        question=f"q{index}",
                        value=callback_data.value,
                    )
                )
                await session.commit()
            await state.set_state(f"q{index + 1}" if index + 1 < questions else "summary")
            await callback.answer()
            assert isinstance(callback.message, Message)
            await callback.message.edit_text(
                str(index + 2), reply_markup=keyboard(callback_data.survey_id, index + 2)
            )

        return answer

    for index in range(questions):
        router.callback_query.register(
            question_handler(index),
            StateFilter(f"q{index}"),
            SurveyCB.filter(F.action == SurveyAction.RATE),
        )

    @router.callback_query(StateFilter("summary"), SurveyCB.filter(F.action == SurveyAction.SUBMIT))
    async def submit(callback: CallbackQuery, state: FSMContext) -> None:
        async with sessions() as session:
            session.add(Submission(user_id=callback.from_user.id))
            await session.commit()
        await state.clear()
        await callback.answer()
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("thanks")

    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(router)

    async def create_tables() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)

    async def count() -> tuple[int, int]:
        from sqlalchemy import func, select

        async with sessions() as session:
            answers = await session.scalar(select(func.count()).select_from(Answer))
            done = await session.scalar(select(func.count()).select_from(Submission))
        await engine.dispose()
        return done or 0, answers or 0

    return dispatcher, (create_tables, count)


async def run_unionvoice(
    path: Path, workdir: Path, updates: list[Update], concurrency: int, latencies: list[float]
) -> tuple[float, int, int]:
    config = parse_config(
        {
            "telegram": {"token": "42:TEST"},
            "database": {"url": f"sqlite+aiosqlite:///{path}"},
            "mailbox": {"key_file": str(workdir / "mailbox.key")},
        }
    )
    database = create_database(config.database.url)
    bot = Bot("42:TEST", session=RecordingSession())
    dispatcher = create_dispatcher(config, database, i18n=create_i18n("zh"))
    gc.collect()
    seconds = await run_updates(dispatcher, bot, updates, concurrency, latencies)

    from sqlalchemy import func, select

    from storage.models import SurveyAnswer, SurveyResponse

    async with database.sessions() as session:
        responses = await session.scalar(select(func.count()).select_from(SurveyResponse))
        stored = await session.scalar(select(func.count()).select_from(SurveyAnswer))
    await database.dispose()
    return seconds, responses or 0, stored or 0


async def main(
    members: int, questions: int, concurrency: int, postgres: str | None = None, instances: int = 2
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="unionvoice-bench-"))
    try:
        first_user = 10_000
        template = workdir / "template.db"
        survey_id = await prepare_database(template, members, questions, first_user)
        updates = answer_updates(members, questions, survey_id, first_user)
        answers, total = members * questions, len(updates)

        echo_bot = Bot("42:TEST", session=RecordingSession())
        # Warm-up (stateless bot): its first pass pays aiogram's and pydantic's first-use costs,
        # which would otherwise flatter every ratio against it.
        await run_updates(echo_dispatcher(), echo_bot, updates[: len(updates) // 4], concurrency)
        echo_latencies: list[float] = []
        echo_seconds = await run_updates(
            echo_dispatcher(), echo_bot, updates, concurrency, echo_latencies
        )

        baseline, (create_tables, count) = durable_baseline(workdir / "baseline.db", questions)
        await create_tables()
        baseline_latencies: list[float] = []
        baseline_bot = Bot("42:TEST", session=RecordingSession())
        baseline_seconds = await run_updates(
            baseline, baseline_bot, updates, concurrency, baseline_latencies
        )
        assert await count() == (members, answers), "the durable baseline lost answers"

        rss_before = _max_rss_mb()
        runs = [concurrency] if concurrency == 1 else [1, concurrency]
        ours: dict[int, tuple[float, list[float]]] = {}
        for run in runs:
            path = workdir / f"bench-{run}.db"
            shutil.copyfile(template, path)
            latencies: list[float] = []
            seconds, responses, stored = await run_unionvoice(
                path, workdir, updates, run, latencies
            )
            assert responses == members and stored == answers, (responses, stored)
            ours[run] = (seconds, latencies)

        echo_rate, baseline_rate = total / echo_seconds, total / baseline_seconds
        ours_seconds, ours_latencies = ours[concurrency]
        ours_rate = total / ours_seconds
        print(
            f"survey bench: {members} members × {questions} questions = {answers} answers "
            f"({total} updates incl. start/submit), concurrency {concurrency}, SQLite WAL"
        )
        print(
            f"  bare aiogram echo bot : {echo_rate:8.0f} updates/s   {percentiles(echo_latencies)}"
        )
        print(
            f"  durable baseline      : {baseline_rate:8.0f} updates/s   "
            f"{percentiles(baseline_latencies)}  ({baseline_rate / echo_rate:.3f}× echo)"
        )
        print(
            f"  unionvoice (durable)  : {ours_rate:8.0f} updates/s   {percentiles(ours_latencies)}"
            f"  ({answers / ours_seconds:.0f} answers/s)"
        )
        if concurrency > 1:
            sequential = total / ours[1][0]
            print(
                f"  unionvoice, 1 at once : {sequential:8.0f} updates/s   "
                f"{percentiles(ours[1][1])}  (burst ÷ sequential {ours_rate / sequential:.2f})"
            )
        print(f"  ratio                 : {ours_rate / echo_rate:8.3f}  (goal ≥ 0.15)")
        print(f"  ratio vs durable baseline : {ours_rate / baseline_rate:.2f}  (goal ≥ 1.5)")
        print(
            f"  peak memory (max RSS) : {_max_rss_mb():8.0f} MB "
            f"({rss_before:.0f} MB before the unionvoice runs)"
        )
        print(f"  stored                : {members} responses, {answers} answers (all durable)")
        if postgres:
            await postgres_runs(postgres, members, questions, concurrency, instances, echo_rate,
                                ours_rate, first_user)  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------ PostgreSQL
async def postgres_runs(
    server: str,
    members: int,
    questions: int,
    concurrency: int,
    instances: int,
    echo_rate: float,
    sqlite_rate: float,
    first_user: int,
) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"uv_bench_{os.getpid()}"
    admin_dsn = make_url(server).set(drivername="postgresql").render_as_string(False)
    url = make_url(server).set(database=name).render_as_string(False)
    admin = await asyncpg.connect(admin_dsn)
    total = members * (questions + 2)
    rates: dict[int, float] = {}
    try:
        for count in sorted({1, instances}):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
            survey_id = await prepare_database_at(url, members, questions, first_user)
            seconds = await run_instances(
                url, count, members, questions, concurrency, survey_id, first_user
            )
            rates[count] = total / seconds
            await check_stored(url, members, members * questions)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"PostgreSQL ({url.split('@')[-1].rsplit('/', 1)[0]}), same updates, separate processes:")
    for count, rate in rates.items():
        label = f"{count} instance{'s' if count > 1 else ''}"
        versus = (
            f"{rate / sqlite_rate:.2f}× SQLite"
            if count == 1
            else f"{rate / rates[1]:.2f}× one instance"
        )
        print(
            f"  unionvoice, {label:11s}: {rate:8.0f} updates/s  ratio vs echo "
            f"{rate / echo_rate:.3f}, {versus}"
        )


async def check_stored(url: str, responses: int, answers: int) -> None:
    from sqlalchemy import func, select

    from storage.models import SurveyAnswer, SurveyResponse

    database = create_database(url)
    try:
        async with database.sessions() as session:
            found = await session.scalar(select(func.count()).select_from(SurveyResponse))
            stored = await session.scalar(select(func.count()).select_from(SurveyAnswer))
    finally:
        await database.dispose()
    assert (found, stored) == (responses, answers), (found, stored)


async def run_instances(
    url: str,
    count: int,
    members: int,
    questions: int,
    concurrency: int,
    survey_id: int,
    first_user: int,
) -> float:
    """`count` worker processes; the clock runs from 'go' (all imported and connected) until
    the last one has handled its share."""
    workers = []
    for index in range(count):
        arguments = {
            "--worker": url, "--instance": index, "--instances": count, "--members": members,
            "--questions": questions, "--concurrency": concurrency, "--survey-id": survey_id,
            "--first-user": first_user,
        }  # fmt: skip
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.survey_bench",
                *(str(part) for pair in arguments.items() for part in pair),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        line = await worker.stdout.readline()
        assert line.strip() == b"ready", line
    started = time.perf_counter()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    for worker in workers:
        assert await worker.wait() == 0, "a worker failed"
    return time.perf_counter() - started


async def worker(
    url: str,
    index: int,
    count: int,
    members: int,
    questions: int,
    concurrency: int,
    survey_id: int,
    first_user: int,
) -> None:
    """One instance: the full Dispatcher on the shared database, its share of the members."""
    updates = [
        u
        for u in answer_updates(members, questions, survey_id, first_user)
        if u.callback_query is not None and u.callback_query.from_user.id % count == index
    ]
    config = parse_config(
        {
            "telegram": {"token": "42:TEST"},
            "database": {"url": url},
            "mailbox": {"secret_key": BENCH_MAILBOX_KEY},
        }
    )
    database = create_database(url)
    bot = Bot("42:TEST", session=RecordingSession())
    dispatcher = create_dispatcher(config, database, i18n=create_i18n("zh"))
    async with database.engine.connect():  # warm the pool before the clock starts
        pass
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await run_updates(dispatcher, bot, updates, concurrency)
    await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (asyncpg)")
    parser.add_argument("--instances", type=int, default=2)
    # Internal: one instance of a PostgreSQL run.
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--survey-id", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--first-user", type=int, default=10_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(
            worker(args.worker, args.instance, args.instances, args.members, args.questions,
                   args.concurrency, args.survey_id, args.first_user)
        )  # fmt: skip
    else:
        asyncio.run(
            main(args.members, args.questions, args.concurrency, args.postgres, args.instances)
        )
