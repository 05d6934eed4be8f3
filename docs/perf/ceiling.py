"""Upper bound: full Dispatcher + our handlers/services, but storage is in-memory dicts (async methods, no IO)."""
import asyncio, sys, tempfile, shutil, time
from pathlib import Path
from aiogram import Bot
from aiogram.fsm.storage.memory import MemoryStorage
import bench.survey_bench as sb
import bot.middlewares as mw, bot.factory as fac
from bot.config import parse_config
from bot.i18n import create_i18n
from storage.database import create_database
from storage.uow import unit_of_work
from storage.repos.surveys import DraftRecord

SNAP = {}
class FakeSurveys:
    def __init__(s): s.drafts={}; s.done=set(); s.responses=0
    async def get(s, i): return SNAP["survey"]
    async def is_done(s, sid, mid): return (sid,mid) in s.done
    async def draft(s, sid, mid):
        r=s.drafts.get((sid,mid)); return DraftRecord(*r) if r else None
    async def save_draft(s, sid, mid, a, e): s.drafts[(sid,mid)]=(a,e)
    async def mark_done(s, sid, mid):
        if (sid,mid) in s.done: return False
        s.done.add((sid,mid)); return True
    async def answer_context(s, sid, mid):
        return SNAP["survey"], (sid,mid) in s.done, await s.draft(sid, mid)
    async def progress(s, sid, mid): return (sid,mid) in s.done, await s.draft(sid, mid)
    def mark_done_at_commit(s, sid, mid): s.done.add((sid,mid))
    async def can_answer_in_department(s, a, d): return 100
    async def add_response(s, *a, **k): s.responses+=1
    async def delete_draft(s, sid, mid): s.drafts.pop((sid,mid),None)
class FakeMembers:
    async def get_by_telegram_id(s, t): return SNAP["members"].get(t)
class FakeUpdates:
    async def highest(s): return 0
    async def seen(s, u): return False
class FakeOutbox: enqueued=0
SURVEYS=FakeSurveys()
class FakeRepos:
    def __init__(s, session=None, update_id=None):
        s.surveys=SURVEYS; s.members=FakeMembers(); s.updates=FakeUpdates(); s.outbox=FakeOutbox(); s.results=None
    async def commit(s): pass
    async def rollback(s): pass
class FakeSessions:
    def __call__(s): return s
    async def __aenter__(s): return None
    async def __aexit__(s,*a): pass

async def main(members=200, conc=int(sys.argv[1]) if len(sys.argv)>1 else 1):
    workdir = Path(tempfile.mkdtemp())
    sid = await sb.prepare_database(workdir/"b.db", members, 10, 10000)
    db = create_database(f"sqlite+aiosqlite:///{workdir/'b.db'}")
    async with unit_of_work(db.sessions) as repos:
        SNAP["survey"] = await repos.surveys.get(sid)
        SNAP["members"] = {10000+i: await repos.members.get_by_telegram_id(10000+i) for i in range(members)}
    await db.dispose()
    updates = sb.answer_updates(members, 10, sid, 10000)
    echo = await sb.run_updates(sb.echo_dispatcher(), Bot("42:TEST", session=sb.RecordingSession()), updates, conc)
    mw.Repositories = FakeRepos
    fac.SQLStorage = lambda *a, **k: MemoryStorage()
    config = parse_config({"telegram":{"token":"42:TEST"},"database":{"url":f"sqlite+aiosqlite:///{workdir/'b.db'}"}})
    database = create_database(config.database.url)
    object.__setattr__(database, "sessions", FakeSessions())
    bot = Bot("42:TEST", session=sb.RecordingSession())
    dp = fac.create_dispatcher(config, database, bot, i18n=create_i18n("zh"))
    t = await sb.run_updates(dp, bot, updates, conc)
    assert SURVEYS.responses == members, SURVEYS.responses
    print(f"conc {conc}: echo {len(updates)/echo:.0f}/s, ours-with-in-memory-storage {len(updates)/t:.0f}/s ratio {echo/t:.2f}")
    shutil.rmtree(workdir)
asyncio.run(main())
