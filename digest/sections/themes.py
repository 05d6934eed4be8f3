"""Free-text themes: the main Chinese keywords in survey answers, proposals and letters, with
how many texts mention each (this week and last) and a few representative quotes.

Letters are counted for everyone but quoted only to their box's own recipients. At most
`theme_text_limit` texts per source and week are read, a page at a time: the keyword counts
stay bounded whatever the size of the data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from common.errors import N_
from common.text import preview
from digest.keywords import keywords_of_many
from digest.period import Period
from digest.sections.base import Data, Gettext, Indicator, Section, SectionContext, Sheet, change, e
from digest.sections.surveys import definition_of
from surveys.definition import DefinitionError, QuestionType

BATCH = 200  # texts tokenized per worker-thread hop
QUOTE_LENGTH = 120
SOURCE_LABELS = {
    "survey": N_("survey answers"),
    "proposal": N_("proposals"),
    "letter": N_("letters"),
}

Texts = Callable[[Period], AsyncIterator[tuple[str, str]]]


def _texts(ctx: SectionContext, survey_ids: list[int], question_ids: list[str]) -> Texts:
    """(source, text) of the audience's sources in a period."""
    repo = ctx.repos.digests
    limit = ctx.settings.theme_text_limit
    tz = ctx.settings.tz

    async def texts(period: Period) -> AsyncIterator[tuple[str, str]]:
        start, end = period.start(tz), period.end(tz)
        if ctx.audience.kind == "officers":
            async for text in repo.survey_texts(
                survey_ids, question_ids, period.first_day, period.end_day, limit=limit
            ):
                yield "survey", text
        async for _id, text in repo.proposal_texts(start, end, limit=limit):
            yield "proposal", text
        async for text in repo.letter_texts(start, end, ctx.box, limit=limit):
            yield "letter", text

    return texts


async def _typed_questions(ctx: SectionContext) -> tuple[list[int], list[str]]:
    """Active surveys and the ids of their questions that take typed text."""
    if ctx.audience.kind != "officers":
        return [], []
    survey_ids, question_ids = [], set()
    for survey in await ctx.repos.digests.active_surveys(ctx.start, ctx.end):
        try:
            definition = definition_of(survey.source, survey.slug, ctx.settings.timezone)
        except DefinitionError:
            continue
        survey_ids.append(survey.id)
        question_ids |= {
            q.id for q in definition.questions if q.type is QuestionType.TEXT or q.other
        }
    return survey_ids, sorted(question_ids)


async def collect(ctx: SectionContext) -> Data:
    texts = _texts(ctx, *await _typed_questions(ctx))
    quotable = {"survey", "proposal"} | ({"letter"} if ctx.audience.kind == "box" else set())

    # Pass 1: candidate keywords by jieba (texts mentioning each), in batches off the event
    # loop. The week's texts are kept for pass 2: at most theme_text_limit per source.
    mentions: Counter[str] = Counter()
    kept: list[tuple[str, str]] = []
    batch: list[str] = []

    async def tokenize() -> None:
        for words in await asyncio.to_thread(keywords_of_many, batch):
            mentions.update(words)
        batch.clear()

    async for source, text in texts(ctx.period):
        kept.append((source, text))
        batch.append(text)
        if len(batch) >= BATCH:
            await tokenize()
    await tokenize()
    top = [word for word, _ in mentions.most_common(ctx.settings.themes)]

    # Pass 2: mentions by source and quotes this week; pass 3: mentions last week.
    themes: dict[str, dict[str, Any]] = {
        word: {"keyword": word, "count": 0, "previous": 0, "sources": {}, "quotes": []}
        for word in top
    }
    if top:
        for source, text in kept:
            lowered = text.lower()
            for word in top:
                if word in lowered:
                    theme = themes[word]
                    theme["count"] += 1
                    theme["sources"][source] = theme["sources"].get(source, 0) + 1
                    if source in quotable and len(theme["quotes"]) < ctx.settings.quotes:
                        theme["quotes"].append(preview(text, QUOTE_LENGTH))
        async for _source, text in texts(ctx.previous):
            lowered = text.lower()
            for word in top:
                if word in lowered:
                    themes[word]["previous"] += 1
    ranked = sorted(themes.values(), key=lambda t: (-t["count"], t["keyword"]))
    return {"texts": len(kept), "themes": ranked}


def render(data: Data, gettext: Gettext, _locale: str | None) -> list[str]:
    if not data["themes"]:
        return [gettext("No typed feedback this week.")]
    lines = [gettext("{count} texts read.").format(count=data["texts"])]
    for index, theme in enumerate(data["themes"], start=1):
        sources = ", ".join(
            f"{gettext(SOURCE_LABELS[source])} {count}"
            for source, count in sorted(theme["sources"].items())
        )
        lines.append(
            f"{index}. <b>{e(theme['keyword'])}</b> "
            + gettext("{count} texts{change}").format(
                count=theme["count"], change=change(theme["count"], theme["previous"])
            )
            + (f" · {e(sources)}" if sources else "")
        )
        for quote in theme["quotes"]:
            lines.append(f"  “{e(quote)}”")
    return lines


def sheets(data: Data) -> list[Sheet]:
    return [
        Sheet(
            "主题",
            ["关键词", "本周提及", "上周提及", "问卷", "提案", "信件", "代表性原话"],
            [
                [
                    theme["keyword"],
                    theme["count"],
                    theme["previous"],
                    theme["sources"].get("survey", 0),
                    theme["sources"].get("proposal", 0),
                    theme["sources"].get("letter", 0),
                    " | ".join(theme["quotes"]),
                ]
                for theme in data["themes"]
            ],
        )
    ]


def indicators(data: Data) -> list[Indicator]:
    return [Indicator(N_("Texts read"), data["texts"], None)]


SECTION = Section(
    key="themes",
    title=N_("Themes in what members wrote"),
    audiences=frozenset({"officers", "box"}),
    collect=collect,
    render=render,
    sheets=sheets,
    indicators=indicators,
)
