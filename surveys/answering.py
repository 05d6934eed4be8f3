"""Answering, as pure functions over a draft: which question is next, is this input valid.

A draft is JSON: {"answers": {question_id: stored}, "skipped": [...], "pending": {qid: [...]},
"other": qid-or-null}. Stored values: single {"choice": key} or {"other": text}; multi
{"choices": [keys], "other": text-or-null}; scale/nps/number a number; text a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from common.errors import N_, DomainError
from surveys.definition import Question, QuestionType, SurveyDefinition

OTHER = "other"  # what a show_if condition sees when "other" was chosen
OTHER_OPTION = -1  # option index of the free-text "other" choice in callback data
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


@dataclass
class Draft:
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=dict)
    other: str | None = None  # question waiting for its "other" text
    editing: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], editing: str | None) -> Draft:
        return cls(
            answers=dict(data.get("answers", {})),
            skipped=list(data.get("skipped", [])),
            pending={k: list(v) for k, v in data.get("pending", {}).items()},
            other=data.get("other"),
            editing=editing,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "skipped": self.skipped,
            "pending": self.pending,
            "other": self.other,
        }


@dataclass(frozen=True, slots=True)
class Step:
    """What the member sees next: a question (with its position) or the summary."""

    question: Question | None
    position: int
    total: int
    stored: Any = None
    pending: tuple[str, ...] = ()
    awaiting_other: bool = False
    answers: tuple[tuple[Question, Any], ...] = ()  # on the summary: everything answered

    @property
    def is_summary(self) -> bool:
        return self.question is None


def condition_value(question: Question, stored: Any) -> Any:
    """A stored answer as show_if conditions see it."""
    if stored is None:
        return None
    if question.type is QuestionType.SINGLE:
        return stored.get("choice", OTHER)
    if question.type is QuestionType.MULTI:
        return [*stored.get("choices", []), *([OTHER] if stored.get("other") else [])]
    return stored


def visible(definition: SurveyDefinition, draft: Draft) -> list[Question]:
    """Questions shown given the answers so far (a condition sees only earlier answers)."""
    seen: dict[str, Any] = {}
    shown: list[Question] = []
    for question in definition.questions:
        if question.is_shown(seen):
            shown.append(question)
            seen[question.id] = condition_value(question, draft.answers.get(question.id))
    return shown


def prune(definition: SurveyDefinition, draft: Draft) -> None:
    """Forget answers to questions that an edit has hidden."""
    keep = {q.id for q in visible(definition, draft)}
    draft.answers = {k: v for k, v in draft.answers.items() if k in keep}
    draft.skipped = [k for k in draft.skipped if k in keep]


def next_step(definition: SurveyDefinition, draft: Draft) -> Step:
    total = len(definition.questions)
    shown = visible(definition, draft)
    target = None
    if draft.editing and draft.editing in {q.id for q in shown}:
        target = definition.question(draft.editing)
    else:
        target = next(
            (q for q in shown if q.id not in draft.answers and q.id not in draft.skipped), None
        )
    if target is None:
        return Step(
            question=None,
            position=total,
            total=total,
            answers=tuple(answered_in_order(definition, draft)),
        )
    return Step(
        question=target,
        position=definition.index_of(target.id) + 1,
        total=total,
        stored=draft.answers.get(target.id),
        pending=tuple(draft.pending.get(target.id, [])),
        awaiting_other=draft.other == target.id,
    )


def answered_in_order(definition: SurveyDefinition, draft: Draft) -> list[tuple[Question, Any]]:
    """(question, stored or None if skipped) for the summary and for submission."""
    return [
        (q, draft.answers.get(q.id))
        for q in visible(definition, draft)
        if q.id in draft.answers or q.id in draft.skipped
    ]


# -- validation of typed input ---------------------------------------------------------------


def parse_text(question: Question, text: str) -> str:
    text = text.strip()
    if not text:
        raise DomainError(N_("Please send some text."))
    if len(text) > question.max_length:
        raise DomainError(
            N_("Your answer is too long: at most {limit} characters, you sent {length}."),
            limit=question.max_length,
            length=len(text),
        )
    return text


def parse_number(question: Question, text: str) -> float | int:
    cleaned = text.strip().replace("，", ",").replace(" ", "")
    if not NUMBER.match(cleaned):
        raise DomainError(N_("Please send a number, for example 42."))
    value = float(cleaned.replace(",", "."))
    if question.integer:
        if not value.is_integer():
            raise DomainError(N_("Please send a whole number."))
        value = int(value)
    low, high = question.min, question.max
    if (low is not None and value < low) or (high is not None and value > high):
        raise DomainError(
            N_("Please send a number from {min} to {max}."),
            min=_plain(low) if low is not None else "…",
            max=_plain(high) if high is not None else "…",
        )
    return value


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def scale_value(question: Question, value: int) -> int:
    assert question.min is not None and question.max is not None
    if not question.min <= value <= question.max:
        raise DomainError(N_("This button is no longer valid."))
    return value


def option_key(question: Question, index: int) -> str:
    """The stored key of a button's option; a forged or stale index is refused."""
    if not 0 <= index < len(question.options):
        raise DomainError(N_("This button is no longer valid."))
    return str(question.options[index].key)


def toggle_choice(question: Question, draft: Draft, option: int) -> None:
    """Tick or untick one option of a multiple-choice question (or its "other")."""
    if option == OTHER_OPTION and question.other:
        draft.other = None if draft.other == question.id else question.id
        return
    key = option_key(question, option)
    chosen = draft.pending.setdefault(question.id, [])
    if key in chosen:
        chosen.remove(key)
        return
    limit = question.max_choices or len(question.options)
    if len(chosen) + (draft.other == question.id) >= limit:
        raise DomainError(N_("Choose at most {limit} options."), limit=limit)
    chosen.append(key)
