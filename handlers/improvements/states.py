"""The steps of opening an improvement action, in order."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup

from improvements.model import LinkKind

KINDS = {"p": LinkKind.PROPOSAL, "q": LinkKind.QUESTION, "t": LinkKind.THEME, "l": LinkKind.LETTER}


class Steps(StatesGroup):
    problem = State()
    cause = State()
    measures = State()
    owner = State()
    due = State()
    expected = State()
    effect = State()
    reason = State()


ORDER = [Steps.problem, Steps.cause, Steps.measures, Steps.owner, Steps.due, Steps.expected]

FIELDS = {
    Steps.problem: "problem",
    Steps.cause: "cause",
    Steps.measures: "measures",
    Steps.owner: "owner",
    Steps.due: "due",
    Steps.expected: "expected",
}
