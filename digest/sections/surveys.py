"""Surveys: active and closed this week, responses and response rate, satisfaction scores and
NPS with the change against the previous week, the questions that moved most, and department
breakdowns under the small-group rule."""

from __future__ import annotations

import functools
from typing import Any
from zoneinfo import ZoneInfo

from common.errors import N_
from common.text import preview
from digest.sections.base import (
    Data,
    Gettext,
    Indicator,
    Section,
    SectionContext,
    Sheet,
    change,
    e,
    localized,
    number,
)
from surveys.definition import (
    DefinitionError,
    QuestionType,
    SurveyDefinition,
    parse_definition,
)
from surveys.model import DepartmentFigures
from surveys.results import department_results, nps_score

SCORED = (QuestionType.SCALE, QuestionType.NPS)
MOVED = 3  # questions listed under "moved most"


@functools.lru_cache(maxsize=256)
def definition_of(source: str, slug: str, timezone: str) -> SurveyDefinition:
    """Parsed once per process (stored definitions do not change under a survey's id without
    a new source text, which is the cache key)."""
    return parse_definition(source, f"{slug}.toml", ZoneInfo(timezone))


def _score(figures: list[DepartmentFigures], nps: bool) -> tuple[float | None, int]:
    n = sum(f.respondents for f in figures)
    if not n:
        return None, 0
    if nps:
        promoters = sum(f.promoters for f in figures)
        detractors = sum(f.detractors for f in figures)
        return float(nps_score(promoters, detractors, n)), n
    return sum(f.total for f in figures) / n, n


async def collect(ctx: SectionContext) -> Data:
    repo = ctx.repos.digests
    active = await repo.active_surveys(ctx.start, ctx.end)
    surveys: list[dict[str, Any]] = []
    questions: dict[int, list[Any]] = {}
    for survey in active:
        try:
            definition = definition_of(survey.source, survey.slug, ctx.settings.timezone)
        except DefinitionError:  # stored definitions were valid when imported
            continue
        questions[survey.id] = [q for q in definition.questions if q.type in SCORED]
        surveys.append(
            {
                "id": survey.id,
                "slug": survey.slug,
                "title": definition.title.to_json(),
                "anonymous": survey.anonymous,
                "opened": bool(survey.opened_at and survey.opened_at >= ctx.start),
                "closed": bool(survey.closed_at and survey.closed_at < ctx.end),
            }
        )
    ids = [s["id"] for s in surveys]
    question_ids = sorted({q.id for qs in questions.values() for q in qs})
    period, previous = ctx.period, ctx.previous
    participation = await repo.participation(ids) if ids else {}
    responses = await repo.responses_between(ids, period.first_day, period.end_day) if ids else {}
    responses_before = (
        await repo.responses_between(ids, previous.first_day, previous.end_day) if ids else {}
    )
    # Both weeks and every department in one pass over the answers.
    figures: dict[tuple[int, str, bool], list[DepartmentFigures]] = {}
    for row in await repo.numeric_figures(
        ids, question_ids, previous.first_day, period.first_day, period.end_day
    ):
        figures.setdefault((row.survey_id, row.question_id, row.current), []).append(
            DepartmentFigures(
                row.department, row.respondents, row.total, row.promoters, row.detractors
            )
        )
    moved: list[dict[str, Any]] = []
    for entry in surveys:
        invited, finished = participation.get(entry["id"], (0, 0))
        entry.update(
            invited=invited,
            finished=finished,
            responses=responses.get(entry["id"], 0),
            responses_previous=responses_before.get(entry["id"], 0),
            questions=[],
        )
        for question in questions[entry["id"]]:
            nps = question.type is QuestionType.NPS
            this_week = figures.get((entry["id"], question.id, True), [])
            score, n = _score(this_week, nps)
            score_before, n_before = _score(figures.get((entry["id"], question.id, False), []), nps)
            shown = department_results(this_week, ctx.settings.small_group, nps=nps)
            item = {
                "id": question.id,
                "text": question.text.to_json(),
                "measure": "nps" if nps else "mean",
                "score": score,
                "n": n,
                "score_previous": score_before,
                "n_previous": n_before,
                "departments": [
                    {
                        "department": d.department,
                        "n": d.respondents,
                        "score": float(d.nps) if nps and d.nps is not None else d.mean,
                    }
                    for d in shown
                ],
            }
            entry["questions"].append(item)
            if score is not None and score_before is not None:
                moved.append(
                    {
                        "survey": entry["title"],
                        "question": item["text"],
                        "measure": item["measure"],
                        "score": score,
                        "score_previous": score_before,
                        "survey_id": entry["id"],
                        "question_id": question.id,
                    }
                )
    moved.sort(key=lambda m: -abs(m["score"] - m["score_previous"]))
    return {"surveys": surveys, "moved": moved[:MOVED], "k": ctx.settings.small_group}


def _figure(measure: str, score: float | None, previous: float | None, gettext: Gettext) -> str:
    if measure == "nps":
        value = "—" if score is None else f"{int(score):+d}"
        return gettext("NPS {score}").format(score=value) + change(score, previous, 0)
    return gettext("mean {mean}").format(mean=number(score, 2)) + change(score, previous, 2)


def render(data: Data, gettext: Gettext, locale: str | None) -> list[str]:
    surveys = data["surveys"]
    if not surveys:
        return [gettext("No survey was open this week.")]
    lines = [
        gettext("Active: {active}; opened this week: {opened}; closed this week: {closed}").format(
            active=len(surveys),
            opened=sum(1 for s in surveys if s["opened"]),
            closed=sum(1 for s in surveys if s["closed"]),
        )
    ]
    for survey in surveys:
        rate = (
            f"{round(100 * survey['finished'] / survey['invited'])}%" if survey["invited"] else "—"
        )
        lines.append(
            f"• <b>{e(preview(localized(survey['title'], locale), 80))}</b> "
            + gettext("responses this week {count}{change}; response rate {rate}").format(
                count=survey["responses"],
                change=change(survey["responses"], survey["responses_previous"]),
                rate=rate,
            )
        )
        for question in survey["questions"]:
            if not question["n"]:
                continue
            lines.append(
                f"  – {e(preview(localized(question['text'], locale), 60))}: "
                + _figure(
                    question["measure"], question["score"], question["score_previous"], gettext
                )
                + f" (n={question['n']})"
            )
        headline = next((q for q in survey["questions"] if q["n"]), None)
        if headline is not None:
            if headline["departments"]:
                parts = [
                    gettext("{department} {score} (n={count})").format(
                        department=e(d["department"] or gettext("Other departments")),
                        score=number(d["score"], 2),
                        count=d["n"],
                    )
                    for d in headline["departments"]
                ]
                lines.append("  " + gettext("By department: {list}").format(list="; ".join(parts)))
            else:
                lines.append(
                    "  "
                    + gettext("By department: not shown (no group of {k} or more).").format(
                        k=data["k"]
                    )
                )
    if data["moved"]:
        lines.append(gettext("Moved most since last week:"))
        for moved in data["moved"]:
            lines.append(
                f"  – {e(preview(localized(moved['question'], locale), 60))} "
                f"({e(preview(localized(moved['survey'], locale), 30))}): "
                + _figure(moved["measure"], moved["score"], moved["score_previous"], gettext)
            )
    return lines


def sheets(data: Data) -> list[Sheet]:
    header = [
        "问卷",
        "题目编号",
        "题目",
        "指标",
        "本周",
        "本周人数",
        "上周",
        "上周人数",
        "部门",
        "部门人数",
        "部门得分",
    ]
    rows: list[list[Any]] = []
    for survey in data["surveys"]:
        for question in survey["questions"]:
            base = [
                localized(survey["title"], "zh"),
                question["id"],
                localized(question["text"], "zh"),
                question["measure"],
                question["score"],
                question["n"],
                question["score_previous"],
                question["n_previous"],
            ]
            rows.append([*base, None, None, None])
            for department in question["departments"]:
                rows.append(
                    [
                        *base,
                        department["department"] or "其他部门",
                        department["n"],
                        department["score"],
                    ]
                )
    responses = Sheet(
        "问卷概况",
        ["问卷", "本周开启", "本周结束", "邀请", "完成", "本周答卷", "上周答卷"],
        [
            [
                localized(s["title"], "zh"),
                "是" if s["opened"] else "",
                "是" if s["closed"] else "",
                s["invited"],
                s["finished"],
                s["responses"],
                s["responses_previous"],
            ]
            for s in data["surveys"]
        ],
    )
    return [responses, Sheet("问卷得分", header, rows)]


def indicators(data: Data) -> list[Indicator]:
    surveys = data["surveys"]
    return [
        Indicator(
            N_("Survey responses"),
            sum(s["responses"] for s in surveys),
            sum(s["responses_previous"] for s in surveys),
        )
    ]


SECTION = Section(
    key="surveys",
    title=N_("Surveys"),
    audiences=frozenset({"officers"}),
    collect=collect,
    render=render,
    sheets=sheets,
    indicators=indicators,
)
