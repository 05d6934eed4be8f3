"""Fills a fresh database for the digest bench: at scale 1.0, 10,000 members, 200 surveys,
1,000,000 answers (100,000 responses of 10 answers), 100,000 proposals and 1,000 improvement
actions and 100,000 mailbox letters over the 52 weeks up to 2026-W48. Core executemany in
large transactions (SQLite takes ~245k rows/s that way); every random choice is seeded, so a
scale always gives the same data."""

from __future__ import annotations

import json
import random
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import (
    Member,
    MemberRole,
    Proposal,
    ProposalEvent,
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
)
from storage.models_digest import ImprovementAction
from storage.models_mailbox import Letter

LAST_DAY = date(2026, 11, 29)  # Sunday of 2026-W48: the bench's digest period ends here
WEEKS = 52
FULL = {
    "members": 10_000,
    "surveys": 200,
    "responses": 100_000,
    "proposals": 100_000,
    "letters": 100_000,
}
ANSWERS_PER_RESPONSE = 10  # 6 scales, 2 NPS, 1 choice, 1 text
CHUNK = 20_000  # rows per executemany
DEPARTMENTS = [
    f"{name}学院"
    for name in ["机电", "外语", "经管", "信息", "建筑", "艺术", "医学", "化工", "数学", "物理"]
]
DEPARTMENTS += ["后勤处", "教务处", "人事处", "财务处", "图书馆", "校办", "党办", "学生处"]
TOPICS = [
    "食堂饭菜价格偏高",
    "停车位不足",
    "图书馆开放时间太短",
    "宿舍热水供应不稳定",
    "教学楼空调经常故障",
    "职称评审不够透明",
    "体检项目太少",
    "子女入学困难",
    "班车发车时间不合理",
    "校园网络速度慢",
    "办公用房紧张",
    "科研经费报销繁琐",
]
FILLERS = ["希望尽快解决", "建议学校重视", "大家反映很多", "影响日常工作", "请工会协调", ""]
STATUSES = ["submitted", "under_review", "accepted", "assigned", "answered", "closed", "declined"]


def _text(rng: random.Random) -> str:
    topics = rng.sample(TOPICS, rng.choice((1, 1, 2)))
    return "，".join(topics) + "，" + rng.choice(FILLERS) + "。"


def _survey_source(index: int) -> str:
    lines = [f'id = "bench-{index}"', f'title = "第{index}期教职工满意度调查"', ""]
    for q in range(6):
        lines += [
            "[[questions]]",
            f'id = "s{q}"',
            'type = "scale"',
            f'text = "满意度第{q + 1}项"',
            "",
        ]
    for q in range(2):
        lines += ["[[questions]]", f'id = "n{q}"', 'type = "nps"', f'text = "推荐意愿{q + 1}"', ""]
    lines += [
        "[[questions]]",
        'id = "c0"',
        'type = "single"',
        'text = "最关心的方面"',
        'options = ["食堂", "交通", "住房", "其他"]',
        "",
        "[[questions]]",
        'id = "t0"',
        'type = "text"',
        'text = "其他意见和建议"',
        "required = false",
    ]
    return "\n".join(lines) + "\n"


def _at(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)


async def _insert(engine: AsyncEngine, table: Any, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            await connection.execute(insert(table), rows[start : start + CHUNK])


async def generate(engine: AsyncEngine, scale: float, seed: int = 7) -> dict[str, int]:
    """Fills a migrated, empty database; returns rows per table."""
    rng = random.Random(seed)
    counts = {key: max(int(value * scale), 1) for key, value in FULL.items()}
    first_day = LAST_DAY - timedelta(weeks=WEEKS) + timedelta(days=1)
    now = datetime(2026, 11, 30, tzinfo=UTC)

    members = [
        {
            "id": i,
            "employee_id": f"E{i:06d}",
            "name": f"教工{i}",
            "department": DEPARTMENTS[i % len(DEPARTMENTS)],
            "telegram_id": 10_000_000 + i,
            "locale": "zh",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, counts["members"] + 1)
    ]
    await _insert(engine, Member.__table__, members)
    roles = [{"member_id": i, "role": "officer"} for i in range(1, 6)]
    roles += [{"member_id": i, "role": "handler"} for i in range(6, 6 + len(DEPARTMENTS))]
    await _insert(engine, MemberRole.__table__, roles)

    # Surveys open four weeks each, spread over the year; the last ones still open.
    surveys, windows = [], {}
    for index in range(1, counts["surveys"] + 1):
        opened = first_day + timedelta(days=int((index - 1) * (WEEKS * 7 - 14) / counts["surveys"]))
        closed = opened + timedelta(weeks=4)
        still_open = closed > LAST_DAY
        surveys.append(
            {
                "id": index,
                "slug": f"bench-{index}",
                "title": json.dumps({"zh": f"第{index}期教职工满意度调查"}, ensure_ascii=False),
                "definition": _survey_source(index),
                "anonymous": index % 2 == 0,
                "status": "open" if still_open else "closed",
                "opened_at": _at(opened, rng),
                "closed_at": None if still_open else _at(closed, rng),
                "created_at": now,
                "updated_at": now,
            }
        )
        windows[index] = (opened, min(closed, LAST_DAY))
    await _insert(engine, Survey.__table__, surveys)

    per_survey = counts["responses"] // counts["surveys"]
    invited = min(int(per_survey * 1.2), counts["members"])
    participants, responses, answers = [], [], []
    written = len(members) + len(roles) + len(surveys)
    for survey_id, (opened, closed) in windows.items():
        people = rng.sample(range(1, counts["members"] + 1), invited)
        named = survey_id % 2 == 1
        span = max((closed - opened).days, 1)
        for position, member_id in enumerate(people):
            done = position < per_survey
            participants.append({"survey_id": survey_id, "member_id": member_id, "done": done})
            if not done:
                continue
            response_id = secrets.token_hex(16)
            day = opened + timedelta(days=rng.randrange(span))
            responses.append(
                {
                    "id": response_id,
                    "survey_id": survey_id,
                    "member_id": member_id if named else None,
                    "department": DEPARTMENTS[member_id % len(DEPARTMENTS)],
                    "submitted_on": day,
                    "submitted_at": _at(day, rng) if named else None,
                }
            )
            mood = rng.random()
            base = {"response_id": response_id, "survey_id": survey_id, "position": 0}
            for q in range(6):
                score = min(5, max(1, round(1 + 4 * mood + rng.uniform(-1, 1))))
                answers.append(
                    {
                        **base,
                        "question_id": f"s{q}",
                        "option": None,
                        "number": float(score),
                        "text": None,
                    }
                )
            for q in range(2):
                score = min(10, max(0, round(10 * mood + rng.uniform(-2, 2))))
                answers.append(
                    {
                        **base,
                        "question_id": f"n{q}",
                        "option": None,
                        "number": float(score),
                        "text": None,
                    }
                )
            answers.append(
                {
                    **base,
                    "question_id": "c0",
                    "option": rng.choice(["食堂", "交通", "住房"]),
                    "number": None,
                    "text": None,
                }
            )
            answers.append(
                {**base, "question_id": "t0", "option": None, "number": None, "text": _text(rng)}
            )
        if len(answers) >= 200_000:
            written += await _flush(engine, participants, responses, answers)
    written += await _flush(engine, participants, responses, answers)

    proposals, events = [], []
    for proposal_id in range(1, counts["proposals"] + 1):
        day = first_day + timedelta(days=rng.randrange(WEEKS * 7))
        submitted = _at(day, rng)
        status = rng.choice(STATUSES)
        answered = (
            submitted + timedelta(days=rng.randrange(1, 40))
            if status in ("answered", "closed")
            else None
        )
        proposals.append(
            {
                "id": proposal_id,
                "kind": "suggestion",
                "category": "后勤服务",
                "title": rng.choice(TOPICS),
                "body": _text(rng),
                "status": status,
                "proposer_id": rng.randrange(1, counts["members"] + 1),
                "department": rng.choice(DEPARTMENTS)
                if status in ("assigned", "answered", "closed")
                else None,
                "due_on": day + timedelta(days=30) if status == "assigned" else None,
                "reopen_count": 0,
                "answered_at": answered,
                "rating": None,
                "created_at": submitted,
                "submitted_at": submitted,
                "updated_at": submitted,
            }
        )
        if status == "closed" and answered is not None:
            rating = rng.choice(["satisfied", "satisfied", "basically", "unsatisfied"])
            events.append(
                {
                    "proposal_id": proposal_id,
                    "at": answered + timedelta(days=2),
                    "action": "rated",
                    "from_status": "answered",
                    "to_status": "closed",
                    "note": rating,
                }
            )
    await _insert(engine, Proposal.__table__, proposals)
    await _insert(engine, ProposalEvent.__table__, events)

    actions = []
    for action_id in range(1, max(int(1_000 * scale), 1) + 1):
        day = first_day + timedelta(days=rng.randrange(WEEKS * 7))
        status = rng.choice(["open", "in_progress", "checking", "closed", "closed", "dropped"])
        actions.append(
            {
                "id": action_id,
                "problem": rng.choice(TOPICS),
                "cause": "",
                "measures": "",
                "owner": rng.choice(DEPARTMENTS),
                "department": rng.choice(DEPARTMENTS),
                "due_on": day + timedelta(days=30),
                "expected_effect": "",
                "status": status,
                "created_at": _at(day, rng),
                "closed_at": _at(day + timedelta(days=20), rng) if status == "closed" else None,
                "updated_at": now,
            }
        )
    await _insert(engine, ImprovementAction.__table__, actions)

    letters = []
    for number in range(counts["letters"]):
        day = first_day + timedelta(days=rng.randrange(WEEKS * 7))
        mode = rng.choice(["named", "named", "confidential", "anonymous"])
        status = rng.choice(["new", "open", "handled", "handled"])
        created = (
            datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            if mode == "anonymous"
            else _at(day, rng)
        )
        replied = created + timedelta(hours=rng.randrange(1, 240)) if status != "new" else None
        letters.append(
            {
                "id": 100_000_000 + number,
                "box": rng.choice(["principal", "secretary"]),
                "type": rng.choice(["report", "suggestion", "misconduct"]),
                "mode": mode,
                "status": status,
                "body": _text(rng),
                "member_id": rng.randrange(1, counts["members"] + 1) if mode == "named" else None,
                "created_at": created,
                "unread": status == "new",
                "pending_notice": False,
                "first_reply_at": replied,
                "handled_at": replied + timedelta(days=1) if status == "handled" else None,
            }
        )
        if len(letters) >= CHUNK:
            await _insert(engine, Letter.__table__, letters)
            written += len(letters)
            letters.clear()
    await _insert(engine, Letter.__table__, letters)
    written += len(proposals) + len(events) + len(actions) + len(letters)
    return {
        "rows": written,
        "members": len(members),
        "surveys": len(surveys),
        "responses": counts["responses"] // counts["surveys"] * counts["surveys"],
        "answers": counts["responses"]
        // counts["surveys"]
        * counts["surveys"]
        * ANSWERS_PER_RESPONSE,
        "proposals": len(proposals),
        "actions": len(actions),
        "letters": counts["letters"],
    }


async def _flush(
    engine: AsyncEngine,
    participants: list[dict[str, Any]],
    responses: list[dict[str, Any]],
    answers: list[dict[str, Any]],
) -> int:
    written = len(participants) + len(responses) + len(answers)
    await _insert(engine, SurveyParticipant.__table__, participants)
    await _insert(engine, SurveyResponse.__table__, responses)
    await _insert(engine, SurveyAnswer.__table__, answers)
    participants.clear()
    responses.clear()
    answers.clear()
    return written
