"""Survey definitions: TOML → validated, immutable objects. See docs/surveys.md."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from common.errors import N_
from surveys import expressions

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
QUESTION_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
DURATION = re.compile(r"^(\d+)\s*([dhm])$")
QUESTION_HEADER = re.compile(r"^\s*\[\[\s*questions\s*\]\]\s*(#.*)?$")
LOCALES = ("zh", "en")
TEXT_LIMIT = 4000  # a Telegram message holds 4,096 characters
MAX_OPTIONS = 20
# tomllib recurses once per nested array or inline table (RecursionError near 1,000) and
# int() refuses over 4,300 digits with a bare ValueError: both are checked before parsing.
# A definition needs two levels (options = [{ zh = "…", en = "…" }]).
MAX_TOML_NESTING = 10
MAX_NUMBER_DIGITS = expressions.MAX_NUMBER_DIGITS


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    SCALE = "scale"
    NPS = "nps"
    TEXT = "text"
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class Text:
    """A string in one or more languages; falls back to whatever exists."""

    values: Mapping[str, str]

    def get(self, locale: str | None) -> str:
        if locale and locale in self.values:
            return self.values[locale]
        for fallback in LOCALES:
            if fallback in self.values:
                return self.values[fallback]
        return next(iter(self.values.values()))

    def to_json(self) -> dict[str, str]:
        return dict(self.values)


@dataclass(frozen=True, slots=True)
class Option:
    key: str  # what is stored; defaults to the text in the first language given
    text: Text


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    text: Text
    required: bool = True
    options: tuple[Option, ...] = ()
    max_choices: int | None = None
    other: bool = False
    min: float | None = None
    max: float | None = None
    integer: bool = False
    labels: Mapping[str, Text] = field(default_factory=dict)
    max_length: int = 1000
    show_if: str | None = None
    condition: expressions.Node | None = None

    def option_keys(self) -> list[str]:
        return [option.key for option in self.options]

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        return self.condition is None or expressions.evaluate(self.condition, answers)


@dataclass(frozen=True, slots=True)
class SurveyDefinition:
    id: str
    title: Text
    questions: tuple[Question, ...]
    description: Text | None = None
    anonymous: bool = False
    audience: tuple[str, ...] = ("all",)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    reminders: tuple[timedelta, ...] = ()

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def index_of(self, question_id: str) -> int:
        return [q.id for q in self.questions].index(question_id)


class Problem(str):
    """One located problem. It reads as English ('file:line: question 'id': what is wrong', as
    the CLI prints it) and keeps its message id, so the bot can show it in the officer's
    language."""

    location: str
    question: str | None
    prefix: str
    message_id: str
    params: dict[str, Any]

    def __new__(
        cls,
        location: str,
        message_id: str,
        *,
        question: str | None = None,
        prefix: str = "",
        **params: Any,
    ) -> Problem:
        where = f"question '{question}': " if question else ""
        problem = super().__new__(cls, f"{location}{where}{prefix}{message_id.format(**params)}")
        problem.location, problem.question, problem.prefix = location, question, prefix
        problem.message_id, problem.params = message_id, params
        return problem

    def translated(self, gettext: Callable[[str], str]) -> str:
        where = gettext(N_("question '{id}': ")).format(id=self.question) if self.question else ""
        message = gettext(self.message_id).format(**self.params)
        return f"{self.location}{where}{self.prefix}{message}"


def localized(problem: str, gettext: Callable[[str], str]) -> str:
    """A problem in the reader's language where it has a message id, else as written."""
    return problem.translated(gettext) if isinstance(problem, Problem) else problem


class DefinitionError(ValueError):
    """Every problem found, each as 'file:line: question 'id': what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _skip_string(source: str, start: int) -> int:
    """The index just after the TOML string that opens at `start` (or the end of the text)."""
    quote = next(q for q in ('"""', "'''", '"', "'") if source.startswith(q, start))
    index = start + len(quote)
    while index < len(source):
        if quote[0] == '"' and source[index] == "\\":
            index += 2
            continue
        if source.startswith(quote, index):
            return index + len(quote)
        if len(quote) == 1 and source[index] == "\n":
            return index  # an unclosed one-line string: tomllib will say so
        index += 1
    return index


_BARE = re.compile(r"[A-Za-z0-9_.:+-]+")


def _size_problems(source: str, filename: str) -> list[str]:
    """Nesting deeper than MAX_TOML_NESTING and numbers longer than MAX_NUMBER_DIGITS, found
    on the text before tomllib sees it (strings and comments are skipped)."""
    problems: list[str] = []
    depth, line, index = 0, 1, 0
    while index < len(source):
        char = source[index]
        if char in "\"'":
            end = _skip_string(source, index)
            line += source.count("\n", index, end)
            index = end
            continue
        if char == "#":
            end = source.find("\n", index)
            index = len(source) if end < 0 else end
            continue
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth == MAX_TOML_NESTING + 1:
                problems.append(
                    Problem(
                        f"{filename}:{line}: ",
                        N_("arrays or tables are nested too deeply (more than {limit} levels)"),
                        limit=MAX_TOML_NESTING,
                    )
                )
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif match := _BARE.match(source, index):  # a number, date, bare key or true/false
            if sum(c.isdigit() for c in match.group()) > MAX_NUMBER_DIGITS:
                problems.append(
                    Problem(
                        f"{filename}:{line}: ",
                        N_("a number is too long (at most {limit} digits)"),
                        limit=MAX_NUMBER_DIGITS,
                    )
                )
            index = match.end()
            continue
        index += 1
    return problems


class _Lines:
    """Finds the line of a key in the TOML text, for error messages (tomllib gives none)."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()
        self.question_starts = [
            i + 1 for i, line in enumerate(self.lines) if QUESTION_HEADER.match(line)
        ]

    def top(self, key: str) -> int:
        end = self.question_starts[0] if self.question_starts else len(self.lines) + 1
        return self._find(key, 1, end) or 1

    def question(self, index: int, key: str | None = None) -> int:
        if index >= len(self.question_starts):
            return 1
        start = self.question_starts[index]
        end = (
            self.question_starts[index + 1]
            if index + 1 < len(self.question_starts)
            else len(self.lines) + 1
        )
        return (self._find(key, start, end) if key else None) or start

    def _find(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return None


class _Parser:
    TOP_KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "title",
            "description",
            "anonymous",
            "audience",
            "opens_at",
            "closes_at",
            "reminders",
            "questions",
        }
    )
    QUESTION_KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "id",
            "type",
            "text",
            "required",
            "options",
            "max_choices",
            "other",
            "min",
            "max",
            "integer",
            "labels",
            "max_length",
            "show_if",
        }
    )

    def __init__(self, source: str, filename: str, tz: ZoneInfo) -> None:
        self.source, self.filename, self.tz = source, filename, tz
        self.lines = _Lines(source)
        self.problems: list[str] = []

    def problem(self, line: int, message: str, question: str | None = None) -> None:
        where = f"question '{question}': " if question else ""
        self.problems.append(f"{self.filename}:{line}: {where}{message}")

    def parse(self) -> SurveyDefinition:
        too_big = _size_problems(self.source, self.filename)
        if too_big:
            raise DefinitionError(too_big)
        try:
            raw = tomllib.loads(self.source)
        except tomllib.TOMLDecodeError as exc:
            raise DefinitionError([f"{self.filename}: not valid TOML: {exc}"]) from None
        except (RecursionError, ValueError):  # what the check above should have caught
            raise DefinitionError(
                [
                    Problem(
                        f"{self.filename}:1: ",
                        N_("the file is nested too deeply or holds too long a number"),
                    )
                ]
            ) from None
        for key in sorted(set(raw) - self.TOP_KEYS):
            self.problem(self.lines.top(key), f"unknown key '{key}'")
        survey_id = raw.get("id")
        if not isinstance(survey_id, str) or not SLUG.match(survey_id):
            self.problem(
                self.lines.top("id"),
                "id must be a slug like 'service-2026q4' (lowercase letters, digits, '-', '_')",
            )
            survey_id = "?"
        title = self.text(raw.get("title"), self.lines.top("title"), "title", required=True)
        description = self.text(
            raw.get("description"), self.lines.top("description"), "description"
        )
        anonymous = raw.get("anonymous", False)
        if not isinstance(anonymous, bool):
            self.problem(self.lines.top("anonymous"), "anonymous must be true or false")
        audience = raw.get("audience", ["all"])
        if not (
            isinstance(audience, list)
            and audience
            and all(isinstance(a, str) and a.strip() for a in audience)
        ):
            self.problem(
                self.lines.top("audience"),
                'audience must be a list such as ["all"] or department names/roles',
            )
            audience = ["all"]
        opens_at = self.moment(raw, "opens_at")
        closes_at = self.moment(raw, "closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.problem(self.lines.top("closes_at"), "closes_at must be after opens_at")
        reminders = self.reminders(raw.get("reminders", []), closes_at)
        questions = self.questions(raw.get("questions"))
        if self.problems:
            raise DefinitionError(self.problems)
        assert title is not None
        return SurveyDefinition(
            id=survey_id,
            title=title,
            description=description,
            anonymous=bool(anonymous),
            audience=tuple(a.strip() for a in audience),
            opens_at=opens_at,
            closes_at=closes_at,
            reminders=reminders,
            questions=tuple(questions),
        )

    def text(
        self,
        value: Any,
        line: int,
        what: str,
        *,
        required: bool = False,
        question: str | None = None,
        limit: int = TEXT_LIMIT,
    ) -> Text | None:
        if value is None:
            if required:
                self.problem(line, f"{what} is missing", question)
            return None
        if isinstance(value, str):
            value = {LOCALES[0]: value}
        if not isinstance(value, dict) or not value:
            self.problem(
                line, f'{what} must be a string or a table like {{ zh = "…", en = "…" }}', question
            )
            return None
        unknown = set(value) - set(LOCALES)
        if unknown:
            self.problem(
                line,
                f"{what}: unknown language(s) {sorted(unknown)} (use {', '.join(LOCALES)})",
                question,
            )
        texts = {k: v for k, v in value.items() if k in LOCALES}
        if not texts or not all(isinstance(v, str) and v.strip() for v in texts.values()):
            self.problem(line, f"{what} must not be empty", question)
            return None
        if any(len(v) > limit for v in texts.values()):
            self.problem(line, f"{what} is longer than {limit} characters", question)
        return Text({k: v.strip() for k, v in texts.items()})

    def moment(self, raw: Mapping[str, Any], key: str) -> datetime | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time.min)
        if not isinstance(value, datetime):
            self.problem(
                self.lines.top(key), f"{key} must be a date-time such as 2026-12-01T09:00:00+08:00"
            )
            return None
        # Without an offset, the time is read in the union's time zone.
        return value if value.tzinfo else value.replace(tzinfo=self.tz)

    def reminders(self, value: Any, closes_at: datetime | None) -> tuple[timedelta, ...]:
        line = self.lines.top("reminders")
        if not isinstance(value, list):
            self.problem(line, 'reminders must be a list such as ["3d", "1d"]')
            return ()
        result = []
        for item in value:
            match = DURATION.match(str(item).strip())
            if not match:
                self.problem(line, f"reminder {item!r} is not a duration like '3d', '12h', '30m'")
                continue
            amount, unit = int(match.group(1)), match.group(2)
            result.append(timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount}))
        if result and closes_at is None:
            self.problem(line, "reminders are counted back from closes_at, which is missing")
        return tuple(sorted(set(result), reverse=True))

    def questions(self, value: Any) -> list[Question]:
        if not isinstance(value, list) or not value:
            self.problem(self.lines.top("questions"), "a survey needs at least one [[questions]]")
            return []
        questions: list[Question] = []
        earlier: list[str] = []  # includes broken questions: each problem is reported once
        for index, raw in enumerate(value):
            question = self.question(index, raw, earlier)
            if question is not None:
                questions.append(question)
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                earlier.append(raw["id"])
        return questions

    def question(self, index: int, raw: Any, earlier: list[str]) -> Question | None:
        line = self.lines.question(index)
        qid = raw.get("id") if isinstance(raw, dict) else None
        name = qid if isinstance(qid, str) else f"#{index + 1}"
        if not isinstance(raw, dict):
            self.problem(line, "must be a table", name)
            return None
        for key in sorted(set(raw) - self.QUESTION_KEYS):
            self.problem(self.lines.question(index, key), f"unknown key '{key}'", name)
        if not isinstance(qid, str) or not QUESTION_ID.match(qid):
            self.problem(
                self.lines.question(index, "id"),
                "id must start with a letter and use letters, digits, '_' or '-'",
                name,
            )
            return None
        if qid in earlier or qid in expressions.KEYWORDS:
            self.problem(
                self.lines.question(index, "id"), "this id is used twice or reserved", name
            )
            return None
        try:
            kind = QuestionType(str(raw.get("type")))
        except ValueError:
            self.problem(
                self.lines.question(index, "type"),
                "type must be one of " + ", ".join(t.value for t in QuestionType),
                name,
            )
            return None
        at = lambda key: self.lines.question(index, key)  # noqa: E731
        text = self.text(raw.get("text"), at("text"), "text", required=True, question=qid)
        required = raw.get("required", True)
        if not isinstance(required, bool):
            self.problem(at("required"), "required must be true or false", qid)
        fields: dict[str, Any] = {}
        if kind in (QuestionType.SINGLE, QuestionType.MULTI):
            fields |= self.choice_fields(raw, kind, qid, at)
        elif kind in (QuestionType.SCALE, QuestionType.NPS):
            fields |= self.scale_fields(raw, kind, qid, at)
        elif kind is QuestionType.NUMBER:
            fields |= self.number_fields(raw, qid, at)
        else:
            max_length = raw.get("max_length", 1000)
            if not _whole(max_length) or not 1 <= max_length <= TEXT_LIMIT:
                self.problem(at("max_length"), f"max_length must be 1–{TEXT_LIMIT}", qid)
                max_length = 1000
            fields["max_length"] = max_length
        show_if, condition = raw.get("show_if"), None
        if show_if is not None:
            condition = self.condition(show_if, qid, earlier, at("show_if"))
        if text is None:
            return None
        return Question(
            id=qid,
            type=kind,
            text=text,
            required=bool(required),
            show_if=show_if,
            condition=condition,
            **fields,
        )

    def choice_fields(
        self, raw: dict[str, Any], kind: QuestionType, qid: str, at: Any
    ) -> dict[str, Any]:
        options: list[Option] = []
        values = raw.get("options")
        other = raw.get("other", False)
        if not isinstance(values, list) or len(values) + bool(other) < 2:
            self.problem(at("options"), "options must list at least two choices", qid)
            values = []
        for value in values:
            key = None
            if isinstance(value, dict) and "key" in value:
                value = dict(value)
                key = str(value.pop("key"))
            text = self.text(value, at("options"), "option", question=qid, limit=200)
            if text is not None:
                options.append(
                    Option(key=(key or next(iter(text.values.values())))[:100], text=text)
                )
        keys = [option.key for option in options]
        if other and "other" in keys:  # the free-text choice is stored under that key
            self.problem(
                at("options"), "an option may not use the key 'other' when other = true", qid
            )
        if len(set(keys)) != len(keys):
            self.problem(at("options"), "two options have the same text", qid)
        if len(options) > MAX_OPTIONS:
            self.problem(at("options"), f"at most {MAX_OPTIONS} options", qid)
        if not isinstance(other, bool):
            self.problem(at("other"), "other must be true or false", qid)
        fields: dict[str, Any] = {"options": tuple(options), "other": bool(other)}
        if kind is QuestionType.MULTI:
            limit = len(options) + bool(other)
            max_choices = raw.get("max_choices", limit)
            # Without usable options the options problem above says it all.
            if limit and (not _whole(max_choices) or not 1 <= max_choices <= limit):
                self.problem(at("max_choices"), f"max_choices must be 1–{limit}", qid)
                max_choices = limit
            fields["max_choices"] = max_choices
        elif "max_choices" in raw:
            self.problem(at("max_choices"), "max_choices is only for multi questions", qid)
        return fields

    def scale_fields(
        self, raw: dict[str, Any], kind: QuestionType, qid: str, at: Any
    ) -> dict[str, Any]:
        low, high = (0, 10) if kind is QuestionType.NPS else (raw.get("min", 1), raw.get("max", 5))
        # Point at the key that is wrong (min if given, else max).
        where = at("min") if "min" in raw else at("max")
        if kind is QuestionType.NPS and ("min" in raw or "max" in raw):
            self.problem(where, "nps is always 0–10", qid)
        if not (_whole(low) and _whole(high) and 1 <= high - low <= 10):
            self.problem(where, "a scale needs whole-number min and max, 2 to 11 points", qid)
            low, high = 1, 5
        labels: dict[str, Text] = {}
        raw_labels = raw.get("labels", {})
        if not isinstance(raw_labels, dict) or set(raw_labels) - {"min", "max"}:
            self.problem(at("labels"), "labels takes only min and max", qid)
            raw_labels = {}
        for end, value in raw_labels.items():
            text = self.text(value, at("labels"), f"label {end}", question=qid, limit=100)
            if text is not None:
                labels[end] = text
        return {"min": low, "max": high, "labels": labels, "integer": True}

    def number_fields(self, raw: dict[str, Any], qid: str, at: Any) -> dict[str, Any]:
        low, high = raw.get("min"), raw.get("max")
        for key, value in (("min", low), ("max", high)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                self.problem(at(key), f"{key} must be a number", qid)
        if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
            self.problem(at("max"), "max must be greater than min", qid)
        integer = raw.get("integer", False)
        if not isinstance(integer, bool):
            self.problem(at("integer"), "integer must be true or false", qid)
        return {"min": low, "max": high, "integer": bool(integer)}

    def condition(
        self, source: Any, qid: str, earlier: list[str], line: int
    ) -> expressions.Node | None:
        if not isinstance(source, str):
            self.problem(line, "show_if must be a string", qid)
            return None
        try:
            node = expressions.parse(source)
        except expressions.ExpressionError as exc:
            if exc.params:  # a message id: the officer reads it in their language
                self.problems.append(
                    Problem(
                        f"{self.filename}:{line}: ",
                        exc.message_id,
                        question=qid,
                        prefix="show_if: ",
                        **exc.params,
                    )
                )
            else:
                self.problem(line, f"show_if: {exc}", qid)
            return None
        unknown = sorted(expressions.references(node) - set(earlier))
        if unknown:
            self.problem(
                line, f"show_if may refer only to earlier questions, not {', '.join(unknown)}", qid
            )
            return None
        return node


def _whole(value: Any) -> bool:
    """An int that is not a bool (TOML true/false are bools, which Python counts as ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_definition(
    source: str, filename: str = "<survey>", tz: ZoneInfo | None = None
) -> SurveyDefinition:
    """Parse and validate; raises DefinitionError listing every problem found."""
    return _Parser(source, filename, tz or ZoneInfo("Asia/Shanghai")).parse()
