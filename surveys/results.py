# Longer than 400 lines on purpose: one computation per question type (choice, scale, NPS, text,
# matrix) with the k-anonymity rule applied in one pass.
"""Survey results: response rate, per-question counts and figures, departments (small groups
merged or hidden), free texts; and a compact HTML summary for Telegram.

No aiogram here: the bot passes its gettext, the CLI an identity function for English.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from common.errors import N_
from common.text import MESSAGE_LIMIT, pack_messages, preview
from surveys.answering import OTHER
from surveys.definition import Question, QuestionType, Text
from surveys.model import DETRACTOR_MAX, PROMOTER_MIN, DepartmentFigures, FreeTextRow
from surveys.ports import ResultsRepos

if TYPE_CHECKING:
    from surveys.service import SurveyInfo

Gettext = Callable[[str], str]

TEXT_PREVIEW = 300  # characters of one free text shown in the summary
CHOICE_TYPES = (QuestionType.SINGLE, QuestionType.MULTI)
NUMERIC_TYPES = (QuestionType.SCALE, QuestionType.NPS, QuestionType.NUMBER)
BREAKDOWN_TYPES = (QuestionType.SCALE, QuestionType.NPS)

OTHER_LABEL = N_("Other")
OTHER_DEPARTMENTS = N_("Other departments")


@dataclass(frozen=True, slots=True)
class OptionResult:
    key: str
    text: Text | None  # None: the typed "other" choice, or a key no longer in the definition
    count: int
    percent: float  # of the question's respondents (a multi-choice question adds up past 100)

    @property
    def is_other(self) -> bool:
        return self.text is None and self.key == OTHER

    def label(self, locale: str | None, gettext: Gettext) -> str:
        if self.text is not None:
            return self.text.get(locale)
        return gettext(OTHER_LABEL) if self.key == OTHER else self.key


@dataclass(frozen=True, slots=True)
class NumberSummary:
    count: int
    mean: float
    median: float
    minimum: float
    maximum: float
    distribution: tuple[tuple[float, int], ...]  # (value, count), ascending


@dataclass(frozen=True, slots=True)
class NpsSummary:
    promoters: int
    passives: int
    detractors: int
    score: int  # % promoters − % detractors, rounded: −100 … 100


@dataclass(frozen=True, slots=True)
class DepartmentResult:
    department: str | None  # None: departments below the threshold (and unknown), merged
    respondents: int
    mean: float | None
    nps: int | None = None  # NPS questions only


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question: Question
    answered: int
    options: tuple[OptionResult, ...] = ()
    numbers: NumberSummary | None = None
    nps: NpsSummary | None = None
    departments: tuple[DepartmentResult, ...] = ()
    texts: tuple[FreeTextRow, ...] = ()
    texts_total: int = 0

    @property
    def chart_counts(self) -> dict[Any, int]:
        """What surveys.charts.render_chart takes: option key → count, or value → count."""
        if self.options:
            return {option.key: option.count for option in self.options}
        return dict(self.numbers.distribution) if self.numbers else {}


@dataclass(frozen=True, slots=True)
class SurveyResults:
    survey_id: int
    anonymous: bool
    invited: int
    finished: int
    respondents: int
    small_group: int
    questions: tuple[QuestionResult, ...]

    @property
    def response_rate(self) -> float | None:
        """Finished / invited, 0–1; None when nobody was invited."""
        return self.finished / self.invited if self.invited else None


# -- arithmetic ------------------------------------------------------------------------------------
def round_half_up(value: float) -> int:
    """Rounds .5 away from zero (Python's round() goes to even: 12.5 → 12)."""
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def median_of(distribution: Sequence[tuple[float, int]]) -> float:
    """Median of values given as ascending (value, count) pairs."""
    total = sum(count for _, count in distribution)
    if total == 0:
        raise ValueError("empty distribution")
    middle = [(total - 1) // 2, total // 2]  # 0-based ranks; equal when total is odd
    found: list[float] = []
    seen = 0
    for value, count in distribution:
        while len(found) < 2 and middle[len(found)] < seen + count:
            found.append(value)
        seen += count
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def summarize_numbers(counts: Mapping[float, int]) -> NumberSummary | None:
    distribution = tuple(sorted((float(v), int(c)) for v, c in counts.items() if c > 0))
    total = sum(c for _, c in distribution)
    if not total:
        return None
    return NumberSummary(
        count=total,
        mean=sum(v * c for v, c in distribution) / total,
        median=median_of(distribution),
        minimum=distribution[0][0],
        maximum=distribution[-1][0],
        distribution=distribution,
    )


def nps_score(promoters: int, detractors: int, total: int) -> int:
    return round_half_up(100 * (promoters - detractors) / total) if total else 0


def summarize_nps(counts: Mapping[float, int]) -> NpsSummary | None:
    total = sum(counts.values())
    if not total:
        return None
    promoters = sum(c for v, c in counts.items() if v >= PROMOTER_MIN)
    detractors = sum(c for v, c in counts.items() if v <= DETRACTOR_MAX)
    return NpsSummary(
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        score=nps_score(promoters, detractors, total),
    )


def option_results(question: Question, counts: Mapping[str, int], answered: int) -> tuple:
    """Every option in definition order (zeros included), then "other", then any stored key
    the definition no longer has."""
    results = [
        OptionResult(o.key, o.text, counts.get(o.key, 0), percent(counts.get(o.key, 0), answered))
        for o in question.options
    ]
    known = set(question.option_keys())
    if question.other or counts.get(OTHER):
        known.add(OTHER)
        results.append(
            OptionResult(OTHER, None, counts.get(OTHER, 0), percent(counts.get(OTHER, 0), answered))
        )
    for key in sorted(set(counts) - known):
        results.append(OptionResult(key, None, counts[key], percent(counts[key], answered)))
    return tuple(results)


def department_results(
    figures: Iterable[DepartmentFigures], small_group: int, *, nps: bool
) -> tuple[DepartmentResult, ...]:
    """Departments with at least `small_group` respondents, by name; the rest (and responses
    without a department) merged into one group, shown only if it too reaches `small_group`."""

    def result(department: str | None, group: list[DepartmentFigures]) -> DepartmentResult:
        respondents = sum(f.respondents for f in group)
        total = sum(f.total for f in group)
        score = None
        if nps:
            score = nps_score(
                sum(f.promoters for f in group), sum(f.detractors for f in group), respondents
            )
        return DepartmentResult(
            department, respondents, total / respondents if respondents else None, score
        )

    shown: list[DepartmentResult] = []
    merged: list[DepartmentFigures] = []
    for figure in figures:
        if figure.department is not None and figure.respondents >= small_group:
            shown.append(result(figure.department, [figure]))
        else:
            merged.append(figure)
    shown.sort(key=lambda r: r.department or "")
    rest = result(None, merged)
    if merged and rest.respondents >= small_group:
        shown.append(rest)
    return tuple(shown)


# -- computing -------------------------------------------------------------------------------------
async def compute_results(
    repos: ResultsRepos,
    survey: SurveyInfo,
    *,
    small_group: int = 5,
    text_limit: int = 20,
) -> SurveyResults:
    """Every figure of the survey, from GROUP BY queries (a handful per survey and one or two
    per scale/nps/text question). `text_limit` free texts per question are kept; the total is
    counted. `small_group` is the k of the department rule."""
    repo = repos.results
    definition = survey.definition
    invited, finished = await repos.surveys.participation(survey.id)
    respondents = await repo.respondent_count(survey.id)
    answered = await repo.answered_counts(survey.id)
    options = await repo.option_counts(survey.id)
    numbers = await repo.number_counts(survey.id)

    questions = []
    for question in definition.questions:
        n = answered.get(question.id, 0)
        result = QuestionResult(question=question, answered=n)
        if question.type in CHOICE_TYPES:
            result = replace(
                result, options=option_results(question, options.get(question.id, {}), n)
            )
        if question.type in NUMERIC_TYPES:
            counts = numbers.get(question.id, {})
            result = replace(result, numbers=summarize_numbers(counts))
            if question.type is QuestionType.NPS:
                result = replace(result, nps=summarize_nps(counts))
        if question.type in BREAKDOWN_TYPES and n:
            figures = await repo.department_figures(survey.id, question.id)
            result = replace(
                result,
                departments=department_results(
                    figures, small_group, nps=question.type is QuestionType.NPS
                ),
            )
        if question.type is QuestionType.TEXT or (question.type in CHOICE_TYPES and question.other):
            total = await repo.free_text_count(survey.id, question.id)
            texts = await repo.free_texts(survey.id, question.id, limit=text_limit) if total else []
            if definition.anonymous:  # never a name, whatever is stored
                texts = [FreeTextRow(t.question_id, t.text, t.option) for t in texts]
            result = replace(result, texts=tuple(texts), texts_total=total)
        questions.append(result)
    return SurveyResults(
        survey_id=survey.id,
        anonymous=definition.anonymous,
        invited=invited,
        finished=finished,
        respondents=respondents,
        small_group=small_group,
        questions=tuple(questions),
    )


# -- rendering -------------------------------------------------------------------------------------
def _number(value: float, digits: int = 1) -> str:
    """3.0 → "3", 3.25 → "3.3" (digits after the point, trailing zeros dropped)."""
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def _percent(value: float) -> str:
    return f"{round_half_up(value)}%"


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _question_block(
    index: int,
    result: QuestionResult,
    results: SurveyResults,
    locale: str | None,
    gettext: Gettext,
) -> list[str]:
    e = html.escape
    question = result.question
    lines = [
        f"<b>{index}. {e(preview(question.text.get(locale), 200))}</b>",
        gettext("Answered: {count}").format(count=result.answered),
    ]
    for option in result.options:
        lines.append(
            gettext("• {option}: {count} ({percent})").format(
                option=e(option.label(locale, gettext)),
                count=option.count,
                percent=_percent(option.percent),
            )
        )
    numbers = result.numbers
    if numbers is not None and result.nps is None:
        lines.append(
            gettext("Mean {mean} · median {median} (min {min}, max {max})").format(
                mean=_number(numbers.mean, 2),
                median=_number(numbers.median, 2),
                min=_number(numbers.minimum, 2),
                max=_number(numbers.maximum, 2),
            )
        )
    if result.nps is not None and numbers is not None:
        nps = result.nps
        lines.append(
            gettext(
                "NPS {score} (promoters {promoters}, passives {passives}, "
                "detractors {detractors}); mean {mean}"
            ).format(
                score=_signed(nps.score),
                promoters=_percent(percent(nps.promoters, numbers.count)),
                passives=_percent(percent(nps.passives, numbers.count)),
                detractors=_percent(percent(nps.detractors, numbers.count)),
                mean=_number(numbers.mean, 2),
            )
        )
    if numbers is not None and question.type is QuestionType.SCALE:
        lines.append(
            gettext("Distribution: {values}").format(
                values=", ".join(f"{_number(v)}×{c}" for v, c in numbers.distribution)
            )
        )
    if question.type in BREAKDOWN_TYPES and result.answered and not result.departments:
        lines.append(
            gettext("By department: not shown (no group of {k} or more).").format(
                k=results.small_group
            )
        )
    if result.departments:
        lines.append(gettext("By department:"))
        for department in result.departments:
            name = department.department or gettext(OTHER_DEPARTMENTS)
            if department.nps is not None:
                figure = gettext("NPS {score}").format(score=_signed(department.nps))
            else:
                figure = gettext("mean {mean}").format(mean=_number(department.mean or 0.0, 2))
            lines.append(
                gettext("• {department}: {figure} (n={count})").format(
                    department=e(name), figure=figure, count=department.respondents
                )
            )
    if result.texts_total:
        lines.append(
            gettext("Typed answers: {total}").format(total=result.texts_total)
            if len(result.texts) == result.texts_total
            else gettext("Typed answers: {total} (first {shown} shown)").format(
                total=result.texts_total, shown=len(result.texts)
            )
        )
        for text in result.texts:
            body = e(preview(text.text, TEXT_PREVIEW))
            if text.option == OTHER and question.type in CHOICE_TYPES:
                body = gettext("{other}: {text}").format(other=e(gettext(OTHER_LABEL)), text=body)
            if not results.anonymous and (text.name or text.department):
                who = " · ".join(e(part) for part in (text.name, text.department) if part)
                lines.append(f"— {body} <i>({who})</i>")
            else:
                lines.append(f"— {body}")
    return lines


def render_results_text(
    results: SurveyResults,
    survey: SurveyInfo,
    locale: str | None,
    gettext: Gettext,
    *,
    limit: int = MESSAGE_LIMIT,
) -> list[str]:
    """The results as Telegram HTML messages, each at most `limit` characters. All user and
    definition text is escaped; tags never span two messages."""
    e = html.escape
    head = [f"<b>{e(preview(survey.definition.title.get(locale), TEXT_PREVIEW))}</b>"]
    if results.response_rate is not None:
        head.append(
            gettext("Responses: {finished} of {invited} invited ({rate})").format(
                finished=results.finished,
                invited=results.invited,
                rate=_percent(100 * results.response_rate),
            )
        )
    else:
        head.append(gettext("Responses: {count}").format(count=results.respondents))
    head.append(gettext("Anonymous survey.") if results.anonymous else gettext("Named survey."))
    if any(q.question.type in BREAKDOWN_TYPES and q.answered for q in results.questions):
        head.append(
            gettext(
                "Departments with fewer than {k} respondents are merged into "
                "“Other departments”, shown only if it reaches {k}."
            ).format(k=results.small_group)
        )
    blocks = ["\n".join(head)]
    for index, result in enumerate(results.questions, start=1):
        blocks.append("\n".join(_question_block(index, result, results, locale, gettext)))
    return pack_messages(blocks, limit)
