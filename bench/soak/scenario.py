"""The union's week, compressed: who is on the roster, and what each person does in chat.

Every action is an update delivered to the product; each person waits for the bot's answer
before the next one, as people do. What the product confirmed is written to the `Ledger`; the
invariants compare it with the database at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from bench.soak.telegram import SoakTelegram, buttons, texts
from bench.soak.topology import Delivery, PollingDelivery, UpdateRecord, WebhookDelivery
from tests.fakes.bot_api import RecordedCall

FIRST_ID = 600_000_000
DEPARTMENTS = ["机电学院", "外语学院", "经管学院", "信息学院", "艺术学院", "基础部", "后勤处"]
SURVEY_ID_KEY = "soak"
SCALE_LABELS = ["教学", "科研", "后勤", "福利"]
SURVEY_SOURCE = """
id = "soak"
title = "教职工满意度调查"
anonymous = true
opens_at = 2020-01-01T09:00:00+08:00

[[questions]]
id = "overall"
type = "scale"
text = "总体满意度？"

[[questions]]
id = "care"
type = "single"
text = "最关心哪方面？"
options = ["教学", "科研", "后勤", "福利"]

[[questions]]
id = "canteen"
type = "scale"
text = "食堂满意度？"

[[questions]]
id = "advice"
type = "text"
text = "一条建议？"
max_length = 100

[[questions]]
id = "nps"
type = "nps"
text = "向同事推荐工会的可能性？"
"""
QUESTIONS = ["overall", "care", "canteen", "advice", "nps"]
POSITION = re.compile(r"· (\d+)/(\d+)")
LETTER_ID = re.compile(r"#(\d+)")
RECEIPT = re.compile(r"<code>([\d ]+)</code>")
PROPOSAL_LINK = re.compile(r"start=p(\d+)")
TRY_AGAIN = ("稍后再试", "try again")
REGISTERED = ("欢迎您，",)  # "欢迎！请发送 /start 注册" is the answer to a stranger
PENDING = ("等待工会干部审核", "已在等待工会干部")
LOST = ("请发送 /start",)


@dataclass
class Person:
    index: int
    employee_id: str
    name: str
    department: str
    roles: str = ""
    registered: bool = True

    @property
    def telegram_id(self) -> int:
        return FIRST_ID + self.index

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.telegram_id, "is_bot": False, "first_name": self.name,
                "language_code": "zh-hans"}  # fmt: skip


@dataclass
class Scale:
    roster: int
    registered: int
    answering: int
    letters: int
    proposals: int
    registrations: int
    mydata: int
    blocked: int

    @classmethod
    def for_minutes(cls, minutes: float) -> Scale:
        f = min(1.0, minutes / 3)
        return cls(
            roster=max(120, int(2000 * f)),
            registered=max(90, int(1500 * f)),
            answering=max(60, int(1000 * f)),
            letters=max(6, int(60 * f)),  # two of each mode
            proposals=max(2, int(30 * f)),
            registrations=max(4, int(40 * f)),  # one of them needs an officer's approval
            mydata=max(3, int(10 * f)),
            blocked=max(2, int(15 * f)),
        )


@dataclass
class World:
    people: list[Person]
    officer: Person
    principal: Person
    secretary: Person
    handler: Person
    representatives: list[Person]
    blocked: set[int]
    reviewers: list[Person] = field(default_factory=list)  # officers who review proposals

    @classmethod
    def build(cls, scale: Scale, seed: int = 7) -> World:
        rng = random.Random(seed)
        people = []
        staff = [
            ("O1", "干部周", "工会办公室", "officer"),
            ("P1", "院长吴", "校长办公室", "principal"),
            ("S1", "书记郑", "党委办公室", "secretary"),
            ("H1", "承办王", "后勤处", "handler"),
        ]
        # Several officers share the proposals, as a union office does: one person reviewing
        # thirty in a row would not get through them in the run. O1 approves registrations
        # and handles the data requests.
        staff += [(f"O{k}", f"干部{k}", "工会办公室", "officer")
                  for k in range(2, 2 + max(1, scale.proposals // 6))]  # fmt: skip
        for i, (employee_id, name, department, roles) in enumerate(staff):
            people.append(Person(i, employee_id, name, department, roles))
        n_reps = scale.proposals  # one each: a person files one proposal at a time
        for i in range(len(staff), scale.roster):
            roles = "representative" if i < len(staff) + n_reps else ""
            people.append(Person(i, f"T{i:05d}", f"会员{i:05d}", rng.choice(DEPARTMENTS), roles,
                                 registered=i < scale.registered))  # fmt: skip
        members = [p for p in people[len(staff) :] if p.registered]
        blocked = {p.telegram_id for p in rng.sample(members[n_reps:], scale.blocked)}
        return cls(people, people[0], people[1], people[2], people[3],
                   people[len(staff) : len(staff) + n_reps], blocked,
                   people[4 : len(staff)])  # fmt: skip

    @property
    def registered(self) -> list[Person]:
        return [p for p in self.people if p.registered]


@dataclass
class LetterRecord:
    marker: str
    sender: Person
    mode: str
    box: str
    letter_id: int = 0
    code: str = ""
    parts: list[str] = field(default_factory=list)  # markers the bot confirmed
    tried_parts: list[str] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    handled: bool = False
    reader_done: bool = False  # the officer is through with it, confirmed or not
    rating: int = 0


@dataclass
class ProposalRecord:
    marker: str
    proposer: Person
    proposal_id: int = 0
    cosigners: set[int] = field(default_factory=set)  # telegram ids the bot thanked
    pressed: set[int] = field(default_factory=set)  # who pressed Co-sign (thanked or not)
    accepted: bool = False
    assigned: bool = False
    answered: bool = False
    rated: bool = False


@dataclass
class Ledger:
    """What the product confirmed to the people, action by action."""

    survey_answers: Counter[tuple[str, Any]] = field(default_factory=Counter)
    completed: set[int] = field(default_factory=set)
    started: set[int] = field(default_factory=set)
    abandoned_then_resumed: int = 0
    edits: int = 0
    letters: list[LetterRecord] = field(default_factory=list)
    proposals: list[ProposalRecord] = field(default_factory=list)
    registered_by_chat: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)  # waiting for an officer's approval
    approved: set[int] = field(default_factory=set)
    mydata: int = 0
    erased: Person | None = None
    erased_confirmed: bool = False
    problems: list[str] = field(default_factory=list)  # flows that could not go on
    invited_at: dict[int, float] = field(default_factory=dict)
    advice: dict[int, str] = field(default_factory=dict)  # the free-text answer's token


class Chat:
    """One person's Telegram client."""

    _message_ids = itertools.count(1)

    def __init__(self, person: Person, soak: Soak) -> None:
        self.person = person
        self.soak = soak
        self.queries = itertools.count(1)
        self.did: list[tuple[float, str]] = []  # (monotonic time, what the person sent)

    @property
    def fake(self) -> SoakTelegram:
        return self.soak.fake

    def _message(self, text: str) -> dict[str, Any]:
        user = self.person.user
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                "from": user, "text": text}  # fmt: skip

    def _callback(self, data: str) -> dict[str, Any]:
        user = self.person.user
        shown = {"message_id": 1, "date": int(time.time()), "text": "…",
                 "chat": {"id": user["id"], "type": "private"},
                 "from": {"id": 42, "is_bot": True, "first_name": "UnionVoice"}}  # fmt: skip
        return {"id": f"cq-{user['id']}-{next(self.queries)}", "from": user, "message": shown,
                "chat_instance": f"ci-{user['id']}", "data": data}  # fmt: skip

    async def _act(
        self, kind: str, body: dict[str, Any], dup: bool, expect: Expect | None
    ) -> list[RecordedCall]:
        delivery = self.soak.delivery
        update_id = delivery.next_id()
        update = {"update_id": update_id, **body}
        record = UpdateRecord(update_id, self.person.telegram_id, kind)
        query = body.get("callback_query", {})
        shown = body.get("message", {}).get("text") or query.get("data")
        self.did.append((time.monotonic(), f"{kind}{' x2' if dup else ''} {shown}"))
        before = self.fake.seen(self.person.telegram_id)
        if dup:
            await delivery.deliver_twice(update, record)
        else:
            await delivery.deliver(update, record)
        return await self._replies(before, query.get("id"), expect)

    async def _replies(
        self, before: int, query: str | None = None, expect: Expect | None = None
    ) -> list[RecordedCall]:
        """What the person saw in answer: messages Telegram delivered (a refused send never
        reached them), edits and the button's answer."""
        chat = self.person.telegram_id
        if isinstance(self.soak.delivery, WebhookDelivery):
            return _seen(self.fake.since(chat, before))  # handled before the 200
        # Polling: the update is handled when the instance gets to it. A button is answered
        # last, once its screen is shown; a message has no such end, and a notice from the
        # outbox (an invitation, a new letter) may come first, so where it matters the step
        # says what its answer looks like (`expect`), as the person knows what they wait for.
        if query is not None:
            expect = _answered(query)
        check = expect or (lambda calls: any(_shows(c) for c in calls if not _notice(c)))
        deadline = time.monotonic() + 45
        while True:
            calls = _seen(self.fake.since(chat, before))
            if check(calls) or any(t in texts(calls) for t in TRY_AGAIN):
                break
            if time.monotonic() > deadline:
                break
            await self.soak.wait_chat(chat, deadline - time.monotonic())
        await asyncio.sleep(0.3)  # the rest of the answer (menus after a welcome, …)
        return _seen(self.fake.since(chat, before))

    async def send(
        self, text: str, *, dup: bool = False, expect: Expect | None = None
    ) -> list[RecordedCall]:
        return await self._act("message", {"message": self._message(text)}, dup, expect)

    async def press(self, data: str, *, dup: bool = False) -> list[RecordedCall]:
        return await self._act("callback", {"callback_query": self._callback(data)}, dup, None)

    async def send_pair(
        self, first: str, second: str, expect: Expect, *, dup: bool = False
    ) -> list[RecordedCall]:
        """Two messages sent quickly: they may reach two instances and be handled out of order
        (with `dup`, each also delivered twice)."""
        delivery = self.soak.delivery
        before = self.fake.seen(self.person.telegram_id)
        ids = [delivery.next_id(), delivery.next_id()]
        pair = []
        for update_id, text in zip(ids, (first, second), strict=True):
            update = {"update_id": update_id, "message": self._message(text)}
            pair.append((update, UpdateRecord(update_id, self.person.telegram_id, "message")))
            self.did.append((time.monotonic(), f"message (pair) {text}"))
        if isinstance(delivery, WebhookDelivery):
            await delivery.deliver_pair(pair, dup=dup)
        else:
            # getUpdates hands them out in order, in one batch, handled side by side.
            assert isinstance(delivery, PollingDelivery)
            for update, record in pair:
                if dup:
                    await delivery.deliver_twice(update, record)
                else:
                    await delivery.deliver(update, record)
        return await self._replies(before, None, expect)

    def screen(self, predicate: Callable[[str], bool] | None = None) -> RecordedCall | None:
        """The latest message or edit in this chat with buttons (matching `predicate`)."""
        for call in reversed(self.fake.by_chat.get(self.person.telegram_id, [])):
            found = buttons(call)
            if found and (predicate is None or any(predicate(d) for _, d in found)):
                return call
        return None


Expect = Callable[[list[RecordedCall]], bool]


def _seen(calls: list[RecordedCall]) -> list[RecordedCall]:
    return [c for c in calls if c.result is not None]


def _answered(query: str) -> Expect:
    return lambda calls: any(c.params.get("callback_query_id") == query for c in calls)


def with_button(prefix: str, count: int = 1) -> Expect:
    """The answer has `count` messages with a button whose data starts with `prefix`."""
    return lambda calls: (
        sum(any(d.startswith(prefix) for _, d in buttons(c)) for c in calls) >= count
    )


def with_text(*fragments: str) -> Expect:
    return lambda calls: any(f in texts(calls) for f in fragments)


def _notice(call: RecordedCall) -> bool:
    """Messages the outbox sends on its own that could arrive while a person waits for an
    answer: the survey invitation and the digest."""
    if call.method.lower() in ("sendphoto", "senddocument"):
        return True
    text = str(call.params.get("text", ""))
    return text.startswith(("📋", "<b>工会周报")) or any(
        d.startswith("s1:i:") for _, d in buttons(call)
    )


def _shows(call: RecordedCall) -> bool:
    """A call a person sees: a message, an edit, or a button's alert."""
    method = call.method.lower()
    if method == "answercallbackquery":
        return bool(call.params.get("text"))
    return method.startswith(("send", "edit"))


def find_button(calls: list[RecordedCall], fragment: str) -> str | None:
    for call in reversed(calls):
        for text, data in buttons(call):
            if fragment in text:
                return data
    return None


def failed(calls: list[RecordedCall]) -> bool:
    shown = texts(calls)
    return not calls or any(t in shown for t in TRY_AGAIN)


class Soak:
    """Shared by every actor: the fake, the delivery, the ledger, the clock of the run."""

    def __init__(
        self, fake: SoakTelegram, delivery: Delivery, world: World, scale: Scale,
        duration: float, survey_id: int, seed: int = 11, duplicate_rate: float = 0.04,
        append_duplicate_rate: float = 0.15,
    ) -> None:  # fmt: skip
        self.fake = fake
        self.delivery = delivery
        self.world = world
        self.scale = scale
        self.duration = duration
        self.survey_id = survey_id
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.duplicate_rate = duplicate_rate
        self.append_duplicate_rate = append_duplicate_rate
        self.pace = min(1.0, max(0.1, duration / 180))  # 1.0 for a 3-minute run
        # How long after the load time people still wait for something (their invitation, a
        # reply): Telegram's 30 messages/s stretch a broadcast to 1,500 plus everyone's answers.
        self.grace = 30 + duration
        self.started = time.monotonic()
        self._chat_events: dict[int, asyncio.Event] = {}
        self.chats = {p.telegram_id: Chat(p, self) for p in world.people}
        self.letters_ready: asyncio.Queue[LetterRecord] = asyncio.Queue()
        self.proposals_ready: asyncio.Queue[ProposalRecord] = asyncio.Queue()
        self.officer: Officer | None = None  # set by the run: one officer, one chat state
        self.quiet: list[Person] = []  # members the run gives nothing else to do
        original = fake._index

        def filed(call: RecordedCall) -> None:
            original(call)
            chat = call.params.get("chat_id")
            if not isinstance(chat, int):
                query = call.params.get("callback_query_id")
                if not (isinstance(query, str) and query.startswith("cq-")):
                    return
                chat = int(query.split("-")[1])
            event = self._chat_events.pop(chat, None)
            if event is not None:
                event.set()

        fake.calls._on_call = filed  # type: ignore[attr-defined]

    async def wait_chat(self, chat: int, timeout: float) -> None:
        event = self._chat_events.setdefault(chat, asyncio.Event())
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(0.01, timeout))

    async def until(self, condition: Callable[[], object]) -> None:
        """Wait until `condition` holds or the run's deadline passes (the ledger is plain
        data, so this looks every half second)."""
        deadline = self.started + self.duration + self.grace
        while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def dup(self) -> bool:
        return self.rng.random() < self.duplicate_rate

    def dup_append(self) -> bool:
        """Steps that add to something (a letter's parts, a follow-up, a reply, a proposal's
        text) are delivered twice more often: a second copy handled again shows as a doubled
        part, where a tap handled twice usually just shows the same screen."""
        return self.rng.random() < self.append_duplicate_rate

    async def think(self, mean: float = 1.5) -> None:
        # About a second between one person's messages at the full pace (Telegram allows about
        # one message a second per chat, and the bot's answers are sends too); short runs
        # compress people's pauses, never below 0.6 s.
        pace = self.pace
        await asyncio.sleep(max(0.6, 1.1 * pace) + self.rng.expovariate(1 / (mean * pace)))

    async def idle(self, low: float, high: float) -> None:
        """A longer pause (reading, doing something else), compressed like `think`."""
        await asyncio.sleep(self.rng.uniform(low, high) * self.pace)

    def problem(self, text: str) -> None:
        self.ledger.problems.append(f"+{self.elapsed():.0f}s {text}")

    async def retry(
        self, action: Callable[[], Any], ok: Callable[[list[RecordedCall]], bool], what: str,
        patience: float = 150.0,
    ) -> list[RecordedCall] | None:  # fmt: skip
        """Do it again when the bot said "try again later" (or nothing), as people do: more
        and more slowly, for a few minutes (longer than the 15-minute run's 72 s of 502s:
        with six quick tries, 34 members gave up in the middle of that outage)."""
        given_up_at = time.monotonic() + patience
        attempt = 0
        while True:
            calls = await action()
            attempt += 1
            if ok(calls):
                return calls
            if time.monotonic() >= given_up_at:
                break
            await asyncio.sleep(min(15.0, 2.0 * attempt))
        self.problem(f"{what}: no good answer after {attempt} tries: {texts(calls)[-200:]!r}")
        return None


# ------------------------------------------------------------------------------ survey
class SurveyTaker:
    def __init__(self, soak: Soak, person: Person) -> None:
        self.soak = soak
        self.person = person
        self.chat = soak.chats[person.telegram_id]
        rng = soak.rng
        self.plan: dict[str, Any] = {
            "overall": rng.randint(1, 5),
            "care": rng.randrange(4),
            "canteen": rng.randint(1, 5),
            "advice": f"建议{rng.getrandbits(40):010x}",
            "nps": rng.randint(0, 10),
        }
        self.will_edit = rng.random() < 0.15
        self.will_abandon = rng.random() < 0.1

    def _invited(self) -> bool:
        intro = f"s1:i:{self.soak.survey_id}:"
        return any(
            c.result is not None and any(d.startswith(intro) for _, d in buttons(c))
            for c in self.soak.fake.by_chat.get(self.person.telegram_id, [])
        )

    async def run(self) -> None:
        soak, chat_id = self.soak, self.person.telegram_id
        # Each member starts after their own invitation, whenever the broadcast reaches them
        # (a kill and the 30/s limit may stretch it past the load time: they still answer).
        deadline = soak.started + soak.duration + soak.grace
        while not self._invited():
            if time.monotonic() > deadline:
                return  # never invited in time: the invariant on invitations tells
            await soak.wait_chat(chat_id, 5)
        soak.ledger.invited_at.setdefault(chat_id, soak.elapsed())
        # Poisson arrivals whose rate peaks right after the invitation and decays.
        await asyncio.sleep(soak.rng.expovariate(1 / max(3.0, soak.duration * 0.12)))
        soak.ledger.started.add(chat_id)
        await self.answer_all(abandon=self.will_abandon)
        if self.will_abandon and chat_id not in soak.ledger.completed:
            await asyncio.sleep(soak.rng.uniform(2, max(3, soak.duration * 0.2)))
            soak.ledger.abandoned_then_resumed += 1
            await self.answer_all(abandon=False)

    async def answer_all(self, *, abandon: bool) -> None:
        soak, sid = self.soak, self.soak.survey_id
        calls = await soak.retry(
            lambda: self.chat.press(f"s1:i:{sid}:0:0"), lambda c: not failed(c), "survey intro"
        )
        if calls is None:
            return
        if "已经完成" in texts(calls):
            self._completed()
            return
        start = find_button(calls, "") if calls else None
        start = next((d for c in calls for _, d in buttons(c) if d.startswith("s1:s:")), start)
        await soak.think(0.5)
        calls = await soak.retry(lambda: self.chat.press(start or f"s1:s:{sid}:0:0"),
                                 lambda c: not failed(c), "survey start")  # fmt: skip
        edited = False
        lost = 0
        for _step in range(30):
            if calls is None:
                return
            shown = texts(calls)
            if "已经完成" in shown:
                self._completed()
                return
            submit = next((d for c in calls for _, d in buttons(c) if d.startswith("s1:u:")), None)
            if submit is not None:
                await soak.think(0.8)
                done = await soak.retry(
                    lambda data=submit: self.chat.press(data, dup=soak.dup()),
                    lambda c: "感谢" in texts(c) or "已经完成" in texts(c), "survey submit",
                )  # fmt: skip
                if done is not None:
                    self._completed()
                return
            found = POSITION.findall(shown)
            if not found:
                lost += 1  # no question on screen (an answer lost, a state gone): tap again
                if lost > 3:
                    soak.problem(f"survey: no question shown to {self.person.employee_id}: "
                                 f"{shown[-200:]!r}")  # fmt: skip
                    return
                await soak.think(1.0)
                calls = await soak.retry(lambda: self.chat.press(f"s1:s:{sid}:0:0"),
                                         lambda c: not failed(c), "survey start again")  # fmt: skip
                continue
            position = int(found[-1][0])
            if abandon and position == 3:
                return  # gone for now; the draft waits
            await soak.think(1.0)
            if self.will_edit and not edited and position == 4:
                edited = True  # back to the canteen question, another score
                soak.ledger.edits += 1
                self.plan["canteen"] = 6 - self.plan["canteen"] if self.plan["canteen"] != 3 else 4
                calls = await soak.retry(lambda: self.chat.press(f"s1:b:{sid}:4:0"),
                                         lambda c: not failed(c), "survey back")  # fmt: skip
                continue
            calls = await soak.retry(lambda p=position: self._answer(p),
                                     lambda c: not failed(c), "survey answer")  # fmt: skip

    def _completed(self) -> None:
        ledger, telegram_id = self.soak.ledger, self.person.telegram_id
        if telegram_id in ledger.completed:
            return
        ledger.completed.add(telegram_id)
        ledger.advice[telegram_id] = self.plan["advice"]
        for question in QUESTIONS:
            ledger.survey_answers[(question, self._stored(question))] += 1

    def _stored(self, question: str) -> Any:
        value = self.plan[question]
        if question == "care":
            return SCALE_LABELS[value]
        if question == "advice":
            return value
        return float(value)

    @staticmethod
    def _next_question(calls: list[RecordedCall]) -> bool:
        return bool(POSITION.search(texts(calls))) or with_button("s1:u:")(calls)

    async def _answer(self, position: int) -> list[RecordedCall]:
        sid, question = self.soak.survey_id, QUESTIONS[position - 1]
        value = self.plan[question]
        dup = self.soak.dup()
        if question == "care":
            return await self.chat.press(f"s1:c:{sid}:{position}:{value}", dup=dup)
        if question == "advice":
            return await self.chat.send(value, expect=self._next_question)
        return await self.chat.press(f"s1:r:{sid}:{position}:{value}", dup=dup)


# ------------------------------------------------------------------------------ mailbox
class LetterWriter:
    modes = ("named", "confidential", "anonymous")
    types = ("report", "suggestion", "misconduct")

    def __init__(self, soak: Soak, person: Person, number: int) -> None:
        self.soak = soak
        self.chat = soak.chats[person.telegram_id]
        mode = self.modes[number % 3]
        box = "principal" if number % 2 == 0 else "secretary"
        self.record = LetterRecord(f"L{number:03d}", person, mode, box)
        self.type = self.types[number % 3]
        self.parts = itertools.count(1)

    def _part(self) -> str:
        marker = f"{self.record.marker}p{next(self.parts)}"
        self.record.tried_parts.append(marker)
        return f"关于食堂和图书馆的情况说明 [{marker}]"

    async def run(self) -> None:
        soak, record = self.soak, self.record
        await asyncio.sleep(soak.rng.uniform(0, soak.duration * 0.5))
        for _attempt in range(4):
            if await self._write():
                break
            record.parts.clear()
            await asyncio.sleep(3)
        else:
            soak.problem(f"letter {record.marker}: never sent")
            return
        soak.ledger.letters.append(record)
        await soak.letters_ready.put(record)
        # The sender comes back: a follow-up after the first reply, a rating when handled. An
        # answer Telegram refused is never seen: the sender stops waiting when the officer is
        # through with the letter, not at the run's deadline.
        await soak.until(lambda: record.replies or record.reader_done)
        if record.replies:
            await soak.think()
            await self._follow_up()
        await soak.until(lambda: record.handled or record.reader_done)
        if record.handled:
            await soak.think()
            await self._rate()

    async def _write(self) -> bool:
        soak, record, chat = self.soak, self.record, self.chat
        steps = [f"mb1:b:0:{record.box}:::0", f"mb1:t:0:{record.box}:{self.type}::0",
                 f"mb1:m:0:{record.box}:{self.type}:{record.mode}:0"]  # fmt: skip
        for data in steps:
            calls = await soak.retry(lambda d=data: chat.press(d), lambda c: not failed(c),
                                     f"letter {record.marker} {data}")  # fmt: skip
            if calls is None:
                return False
            await soak.think(0.5)
        first, second = self._part(), self._part()
        if soak.rng.random() < 0.5:
            calls = await chat.send_pair(first, second, with_button("mb1:p", 2),
                                         dup=soak.dup_append())  # fmt: skip
            # Each part is acknowledged on its own; with one acknowledgement for two parts the
            # person cannot tell which one arrived, so neither counts as confirmed.
            confirmed = [first, second] if with_button("mb1:p", 2)(calls) else []
        else:
            calls = await chat.send(first, dup=soak.dup_append(), expect=with_button("mb1:p"))
            confirmed = [first] if "mb1:p" in str(calls) and not failed(calls) else []
            await soak.think(0.5)
            calls = await chat.send(second, dup=soak.dup_append(), expect=with_button("mb1:p"))
            confirmed += [second] if "mb1:p" in str(calls) and not failed(calls) else []
        record.parts = [m.split("[")[-1].rstrip("]") for m in confirmed]
        await soak.think(0.5)
        preview = await chat.press("mb1:p:0::::0")
        if "mb1:s" not in str(preview):
            return False  # the draft is gone (a restart, a lost state): write it again
        await soak.think(0.5)
        sent = await chat.press("mb1:s:0::::0", dup=soak.dup())
        shown = texts(sent)
        found = LETTER_ID.search(shown)
        if found is None:
            return False
        record.letter_id = int(found.group(1))
        if record.mode == "anonymous":
            code = RECEIPT.search(shown)
            record.code = code.group(1).replace(" ", "") if code else ""
        return True

    async def _follow_up(self) -> None:
        soak, record, chat = self.soak, self.record, self.chat
        marker = f"{record.marker}f1"
        if record.mode == "anonymous":
            if not record.code:
                return  # the code never reached the sender (its message was lost)
            follow = None
            for _attempt in range(3):  # an answer Telegram refused: the sender asks again
                opened = await chat.send(f"/receipt {record.code}", expect=with_button("mb1:r"))
                follow = next((d for c in opened for _, d in buttons(c) if d.startswith("mb1:rf")),
                              None)  # fmt: skip
                if follow is not None:
                    break
                await soak.think()
            if follow is None:
                soak.problem(f"letter {record.marker}: receipt code did not open it")
                return
        else:
            follow = f"mb1:f:{record.letter_id}::::0"
        await chat.press(follow)
        await soak.think(0.5)
        calls = await chat.send(f"补充说明 [{marker}]", dup=soak.dup_append(),
                                expect=with_text("已补充"))  # fmt: skip
        if "已补充" in texts(calls):  # what the sender is told when it was added
            record.follow_ups.append(marker)

    async def _rate(self) -> None:
        soak, record, chat = self.soak, self.record, self.chat
        if record.mode == "anonymous":
            if not record.code:
                return
            opened = await chat.send(f"/receipt {record.code}", expect=with_button("mb1:r"))
            rate = next((d for c in opened for _, d in buttons(c) if d.startswith("mb1:rr")),
                        None)  # fmt: skip
            if rate is None:
                return
            rate = rate.rsplit(":", 1)[0] + ":4"
        else:
            rate = f"mb1:r:{record.letter_id}::::4"
        calls = await chat.press(rate, dup=soak.dup())
        if "感谢" in texts(calls):
            record.rating = 4


class MailboxReader:
    """The principal and the secretary answer their letters, then mark them handled."""

    def __init__(self, soak: Soak) -> None:
        self.soak = soak
        self._locks: dict[int, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        soak = self.soak
        while True:
            record = await soak.letters_ready.get()
            reader = soak.world.principal if record.box == "principal" else soak.world.secretary
            task = asyncio.create_task(self._answer(record, soak.chats[reader.telegram_id]))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _answer(self, record: LetterRecord, chat: Chat) -> None:
        try:
            await self._reply_and_close(record, chat)
        finally:
            record.reader_done = True

    async def _reply_and_close(self, record: LetterRecord, chat: Chat) -> None:
        soak, lid = self.soak, record.letter_id
        async with self._lock(chat):
            await soak.think()
            await chat.press(f"ib1:r:{lid}:0:o:")
            await soak.think(0.5)
            marker = f"{record.marker}r1"
            await chat.send(f"已收到，正在了解情况 [{marker}]", dup=soak.dup_append(),
                            expect=with_button("ib1:s:"))  # fmt: skip
            await soak.think(0.5)
            calls = await chat.press(f"ib1:s:{lid}:0:o:", dup=soak.dup())
            if f"已发送给信件 #{lid}" in texts(calls):
                record.replies.append(marker)
        await soak.idle(4, 10)
        async with self._lock(chat):
            await chat.press(f"ib1:h:{lid}:0:o:")
            await soak.think(0.5)
            calls = await chat.send(f"已处理完毕 [{record.marker}h]", expect=with_text(f"#{lid}"))
            if f"#{lid}" in texts(calls) and not failed(calls):
                record.handled = True

    def _lock(self, chat: Chat) -> asyncio.Lock:
        # One conversation at a time per reader: their chat state holds one reply being written.
        return self._locks.setdefault(chat.person.telegram_id, asyncio.Lock())


# ------------------------------------------------------------------------------ proposals
def data_starting(calls: list[RecordedCall], prefix: str, text: str = "") -> str | None:
    for call in reversed(calls):
        for label, data in buttons(call):
            if data.startswith(prefix) and text in label:
                return data
    return None


class Proposer:
    def __init__(self, soak: Soak, person: Person, number: int) -> None:
        self.soak = soak
        self.chat = soak.chats[person.telegram_id]
        self.record = ProposalRecord(f"P{number:03d}", person)

    async def run(self) -> None:
        soak = self.soak
        await asyncio.sleep(soak.rng.uniform(0, soak.duration * 0.4))
        for attempt in range(3):
            last = attempt == 2
            if await self._file(report=last):
                return
            await soak.think()  # a conversation lost (Redis restarted): start over

    async def _file(self, *, report: bool) -> bool:
        soak, record, chat = self.soak, self.record, self.chat
        ok = lambda c: not failed(c)  # noqa: E731
        calls = await soak.retry(lambda: chat.press("p1:n:0:proposal"), ok, "proposal new")
        category = data_starting(calls or [], "p1:c:")
        if category is None:
            if report:
                soak.problem(f"proposal {record.marker}: no categories offered")
            return False
        await soak.think(0.5)
        await chat.press(category)
        await soak.think(0.5)
        await chat.send(f"建议改善教工食堂 [{record.marker}]", expect=with_button("p1:f:"))
        await soak.think(0.5)
        calls = await chat.send(f"晚上加班的老师吃不上饭，建议延长营业时间。[{record.marker}b]",
                                dup=soak.dup_append(), expect=with_button("p1:f:"))  # fmt: skip
        finish = data_starting(calls, "p1:f:")
        if finish is None:
            if report:
                soak.problem(f"proposal {record.marker}: no Done button: {texts(calls)[-200:]!r}")
            return False
        await soak.think(0.5)
        preview = await chat.press(finish)
        submit = data_starting(preview, "p1:s:")
        if submit is None:
            if report:
                soak.problem(f"proposal {record.marker}: no Submit button")
            return False
        await soak.think(0.5)
        sent = await soak.retry(lambda: chat.press(submit, dup=soak.dup()),
                                lambda c: "p1:s:" not in str(c) or "start=p" in texts(c),
                                f"proposal {record.marker} submit")  # fmt: skip
        found = PROPOSAL_LINK.search(texts(sent or []))
        record.proposal_id = int(found.group(1)) if found else int(submit.split(":")[2])
        soak.ledger.proposals.append(record)
        await self._cosigners()
        await soak.proposals_ready.put(record)
        await soak.until(lambda: record.answered)
        if record.answered:
            await soak.think()
            rated = await chat.press(f"p1:r:{record.proposal_id}:satisfied", dup=soak.dup())
            if "感谢" in texts(rated):
                record.rated = True
                await soak.think(0.5)
                await chat.send("/skip")
        return True

    async def _cosigners(self) -> None:
        # People busy with nothing else (a /start in the middle of a survey would end it), each
        # opening the forwarded link on their own.
        await asyncio.gather(*(self._cosign(p) for p in self.soak.rng.sample(self.soak.quiet, 3)))

    async def _cosign(self, person: Person) -> None:
        soak, record = self.soak, self.record
        chat = soak.chats[person.telegram_id]
        await soak.think(0.5)
        await chat.send(f"/start p{record.proposal_id}", expect=with_button("p1:g:"))
        await soak.think(0.5)
        record.pressed.add(person.telegram_id)
        calls = await chat.press(f"p1:g:{record.proposal_id}:", dup=soak.dup())
        if "感谢您附议" in texts(calls) or "已经附议" in texts(calls):
            record.cosigners.add(person.telegram_id)


class Officer:
    """The union office: O1 approves registrations and handles a data request, the other
    officers review proposals; the department's handler answers assigned proposals. Each
    person has one conversation at a time (a lock per chat), as people do."""

    def __init__(self, soak: Soak) -> None:
        self.soak = soak
        self.chat = soak.chats[soak.world.officer.telegram_id]
        self.handler = soak.chats[soak.world.handler.telegram_id]
        self.reviewers = [soak.chats[p.telegram_id] for p in soak.world.reviewers]
        self.approved: set[str] = set()
        self.lock = asyncio.Lock()
        self._locks: dict[int, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def lock_of(self, chat: Chat) -> asyncio.Lock:
        return self._locks.setdefault(chat.person.telegram_id, asyncio.Lock())

    async def approvals(self) -> None:
        soak = self.soak
        while True:
            await soak.wait_chat(self.chat.person.telegram_id, 3)
            for call in list(soak.fake.by_chat.get(self.chat.person.telegram_id, [])):
                for _label, data in buttons(call):
                    if data.startswith("a1:") and data.endswith(":1") and data not in self.approved:
                        self.approved.add(data)
                        async with self.lock:
                            await soak.think(0.5)
                            calls = await self.chat.press(data, dup=soak.dup())
                        if calls and not failed(calls):
                            soak.ledger.approved.add(int(data.split(":")[1]))

    async def proposals(self) -> None:
        soak = self.soak
        while True:
            record = await soak.proposals_ready.get()
            task = asyncio.create_task(self._work(record))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _work(self, record: ProposalRecord) -> None:
        soak, pid = self.soak, record.proposal_id
        officer = self.reviewers[pid % len(self.reviewers)]
        async with self.lock_of(officer):
            await soak.think()
            if not await self._review(officer, record):
                return
        await soak.idle(2, 6)
        async with self.lock_of(self.handler):  # one answer at a time in their chat
            for _attempt in range(3):
                await self.handler.press(f"p1:w:{pid}:")
                await soak.think(0.5)
                calls = await self.handler.send(f"二食堂将营业到 20:00。[{record.marker}a]",
                                                expect=with_text("已发送"))  # fmt: skip
                record.answered = "已发送" in texts(calls)
                if record.answered or not failed(calls):
                    return
                await soak.think()  # told to try again: they do

    async def _review(self, officer: Chat, record: ProposalRecord) -> bool:
        """Accept the proposal and assign it, as an officer does: when an answer did not come
        (Telegram refused it for longer than the bot retries), open the card again and go on
        from what it shows."""
        soak, pid = self.soak, record.proposal_id
        card: list[RecordedCall] = []
        for attempt in range(3):
            accepted = any(t in texts(card) for t in ("已立案", "承办部门办理中"))
            if attempt == 0 or data_starting(card, "p1:d:") is not None or not accepted:
                await officer.press(f"p1:d:{pid}:accepted")
                await soak.think(0.5)
                card = await officer.send("涉及全校教职工，同意立案", expect=with_button("p1:a:"))
            shown = texts(card)
            if "承办部门办理中" in shown or data_starting(card, "p1:w:") is not None:
                record.accepted = record.assigned = True  # done, its answer lost
                return True
            if data_starting(card, "p1:a:") is not None or "已立案" in shown:
                record.accepted = True
                await soak.think(0.5)
                await officer.press(f"p1:a:{pid}:")
                await soak.think(0.5)
                calls = await officer.send("后勤处", expect=with_button("p1:dd:"))
                due = data_starting(calls, "p1:dd:", "默认") or data_starting(calls, "p1:dd:")
                if due is not None:
                    await soak.think(0.5)
                    calls = await officer.press(due, dup=soak.dup())
                    record.assigned = "后勤处" in texts(calls)
            if record.assigned:
                return True
            await soak.think()
            card = await officer.press(f"p1:v:{pid}:")  # where is it now?
        if "承办部门办理中" in texts(card):
            record.accepted = record.assigned = True
            return True
        soak.problem(f"proposal {record.marker}: not accepted and assigned: "
                     f"{texts(card)[-160:]!r}")  # fmt: skip
        return False

    async def erase(self, _person: Person) -> None:
        """O1 confirms the erasure; an answer that did not come (Telegram refused it for longer
        than the bot retries) is looked for again from the list, as the officer would."""
        soak = self.soak
        pressed = False
        async with self.lock:
            for attempt in range(4):
                if attempt:
                    await soak.idle(8, 15)  # later: Telegram refused the answers for a while
                calls = await self.chat.send("/datarequests", expect=with_button("d1:k:"))
                confirm = data_starting(calls, "d1:k:")
                if confirm is None:
                    if pressed and "没有待处理" in texts(calls):
                        soak.ledger.erased_confirmed = True  # done; its answer was lost
                        return
                    continue
                await soak.think(0.5)
                erase = data_starting(await self.chat.press(confirm), "d1:n:")
                if erase is None:
                    continue
                await soak.think(0.5)
                pressed = True
                if not failed(await self.chat.press(erase)):
                    soak.ledger.erased_confirmed = True
                    return
            soak.problem(f"erasure: not confirmed: {texts(calls)[-200:]!r}")


# ------------------------------------------------------------------------------ members
class Registrant:
    def __init__(self, soak: Soak, person: Person, wrong_name: bool) -> None:
        self.soak = soak
        self.person = person
        self.chat = soak.chats[person.telegram_id]
        self.wrong_name = wrong_name

    async def run(self) -> None:
        soak = self.soak
        await asyncio.sleep(soak.rng.uniform(0, soak.duration * 0.6))
        for attempt in range(3):
            if await self._register(report=attempt == 2):
                return
            await soak.think()  # the conversation was lost (Redis restarted): start over

    async def _register(self, *, report: bool) -> bool:
        soak, chat = self.soak, self.chat
        ok = lambda c: not failed(c)  # noqa: E731
        calls = await soak.retry(lambda: chat.send("/start"), ok, "register start")
        if calls is None:
            return True  # reported by retry
        if not with_button("c1:")(calls):
            # No consent asked: an earlier attempt went through, its answer lost.
            if self.person.telegram_id in soak.ledger.pending:
                return True
            soak.ledger.registered_by_chat.add(self.person.telegram_id)
            return True
        await soak.think(0.5)
        await chat.press("c1:1", dup=soak.dup())
        await soak.think(0.5)
        await chat.send(self.person.employee_id)
        await soak.think(0.5)
        name = self.person.name + ("老师" if self.wrong_name else "")
        shown = texts(await chat.send(name, expect=with_text(*REGISTERED, *PENDING, *LOST)))
        if any(t in shown for t in REGISTERED):
            soak.ledger.registered_by_chat.add(self.person.telegram_id)
            return True
        if any(t in shown for t in PENDING):  # an officer decides (Officer.approvals)
            soak.ledger.pending.add(self.person.telegram_id)
            return True
        if report:
            soak.problem(f"registration of {self.person.employee_id}: {shown[-160:]!r}")
        return False


class DataRequester:
    def __init__(self, soak: Soak, person: Person, erase: bool) -> None:
        self.soak = soak
        self.person = person
        self.chat = soak.chats[person.telegram_id]
        self.erase = erase

    async def run(self) -> None:
        soak, chat = self.soak, self.chat
        await asyncio.sleep(soak.rng.uniform(soak.duration * 0.2, soak.duration * 0.6))
        calls = await soak.retry(lambda: chat.send("/mydata", expect=with_button("d1:j")),
                                 lambda c: not failed(c), "mydata")  # fmt: skip
        if calls is None:
            return
        await soak.think(0.5)
        got = await chat.press("d1:j:0")
        if any(c.method.lower() == "senddocument" for c in got):
            soak.ledger.mydata += 1
        if not self.erase:
            return
        await soak.think(0.5)
        await chat.press("d1:e:0")
        await soak.think(0.5)
        calls = await chat.press("d1:r:0", dup=soak.dup())
        if failed(calls):
            soak.problem(f"erasure request refused: {texts(calls)[-200:]!r}")
            return
        soak.ledger.erased = self.person
        await soak.think()
        assert soak.officer is not None
        await soak.officer.erase(self.person)
