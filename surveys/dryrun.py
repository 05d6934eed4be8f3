"""Trying a draft: the member's answering steps over a Draft kept in the officer's conversation,
never in the survey tables. Pure, like surveys/answering.py, which decides every step."""

from __future__ import annotations

from typing import Any

from common.errors import N_, DomainError
from surveys import answering
from surveys.answering import Draft, Step
from surveys.definition import Question, QuestionType, SurveyDefinition

OTHER_OPTION = answering.OTHER_OPTION  # as in the members' buttons


class StaleStep(DomainError):
    """A button of another question: the current one is shown again."""

    def __init__(self, step: Step) -> None:
        super().__init__(N_("That button belongs to another question; here is the current one."))
        self.step = step


class TryRun:
    """One officer's try of one draft. `to_json` is what the conversation keeps."""

    def __init__(self, definition: SurveyDefinition, data: dict[str, Any] | None = None) -> None:
        self.definition = definition
        data = data or {}
        self.draft = Draft.from_json(data, data.get("editing"))

    def to_json(self) -> dict[str, Any]:
        return {**self.draft.to_json(), "editing": self.draft.editing}

    def step(self) -> Step:
        answering.prune(self.definition, self.draft)
        return answering.next_step(self.definition, self.draft)

    def _question(self, position: int, *types: QuestionType) -> Question:
        step = self.step()
        if step.is_summary or step.position != position:
            raise StaleStep(step)
        assert step.question is not None
        if types and step.question.type not in types:
            raise StaleStep(step)
        return step.question

    def _answered(self, question_id: str, stored: Any) -> Step:
        draft = self.draft
        draft.answers[question_id] = stored
        draft.skipped = [q for q in draft.skipped if q != question_id]
        draft.pending.pop(question_id, None)
        draft.other, draft.editing = None, None
        return self.step()

    def choose(self, position: int, option: int) -> Step:
        question = self._question(position, QuestionType.SINGLE)
        if option == OTHER_OPTION and question.other:
            self.draft.other = question.id
            return self.step()
        return self._answered(question.id, {"choice": answering.option_key(question, option)})

    def toggle(self, position: int, option: int) -> Step:
        question = self._question(position, QuestionType.MULTI)
        answering.toggle_choice(question, self.draft, option)
        return self.step()

    def confirm(self, position: int) -> Step:
        question = self._question(position, QuestionType.MULTI)
        chosen = self.draft.pending.get(question.id, [])
        if not chosen:
            raise DomainError(N_("Choose at least one option, or skip the question."))
        order = question.option_keys()
        return self._answered(
            question.id, {"choices": sorted(chosen, key=order.index), "other": None}
        )

    def rate(self, position: int, value: int) -> Step:
        question = self._question(position, QuestionType.SCALE, QuestionType.NPS)
        return self._answered(question.id, answering.scale_value(question, value))

    def type_in(self, text: str) -> Step:
        step = self.step()
        question = step.question
        if question is None:
            raise DomainError(N_("Please use the buttons under the summary."))
        if step.awaiting_other:
            other = answering.parse_text(question, text)
            if question.type is QuestionType.SINGLE:
                return self._answered(question.id, {"other": other})
            order = question.option_keys()
            chosen = sorted(self.draft.pending.get(question.id, []), key=order.index)
            return self._answered(question.id, {"choices": chosen, "other": other})
        if question.type is QuestionType.TEXT:
            return self._answered(question.id, answering.parse_text(question, text))
        if question.type is QuestionType.NUMBER:
            return self._answered(question.id, answering.parse_number(question, text))
        raise DomainError(N_("Please answer with the buttons."))

    def skip(self, position: int) -> Step:
        question = self._question(position)
        if question.required:
            raise DomainError(N_("This question needs an answer."))
        draft = self.draft
        draft.answers.pop(question.id, None)
        draft.pending.pop(question.id, None)
        draft.skipped.append(question.id)
        draft.other, draft.editing = None, None
        return self.step()

    def back(self) -> Step:
        step = self.step()
        earlier = [
            q
            for q, _stored in answering.answered_in_order(self.definition, self.draft)
            if step.is_summary or self.definition.index_of(q.id) < step.position - 1
        ]
        if earlier:
            self.draft.editing, self.draft.other = earlier[-1].id, None
        return self.step()

    def edit(self, position: int) -> Step:
        if not 1 <= position <= len(self.definition.questions):
            raise DomainError(N_("This button is no longer valid."))
        question = self.definition.questions[position - 1]
        if question.id not in {q.id for q in answering.visible(self.definition, self.draft)}:
            raise DomainError(N_("This button is no longer valid."))
        self.draft.editing, self.draft.other = question.id, None
        if question.type is QuestionType.MULTI and question.id in self.draft.answers:
            chosen = self.draft.answers[question.id].get("choices", [])
            self.draft.pending[question.id] = list(chosen)
        return self.step()
