"""`show_if` conditions: a tiny, safe expression language (parsed here, never `eval`ed).

    overall <= 2
    role in ["教师", "行政"] and not answered(why)
    "食堂" in improvements or (nps >= 9 and overall == 5)

Values: numbers, "strings" or 'strings', [lists], true/false, question ids (their answers),
`answered(id)`. Operators: == != < <= > >= in, not in, and, or, not, parentheses. An
unanswered or skipped question is `none`: every comparison with it is false.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Union

from common.errors import N_

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|==|!=|<|>|\(|\)|\[|\]|,)
      | (?P<name>[^\W\d][\w-]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "answered"}
COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}
# Parsing and evaluating recurse once per level: without a cap, 300 parentheses or 2,000
# `not`s end in RecursionError. No real condition comes near these.
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 30  # int() refuses over 4,300 digits with a bare ValueError


class ExpressionError(ValueError):
    """The condition cannot be parsed; the message says where and why.

    With `params`, `message_id` is a gettext id (N_) the bot shows in the reader's language."""

    def __init__(self, message_id: str, **params: Any) -> None:
        super().__init__(message_id.format(**params) if params else message_id)
        self.message_id = message_id
        self.params = params


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Ref:
    question_id: str


@dataclass(frozen=True, slots=True)
class Answered:
    question_id: str


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node


Node = Union[Literal, Ref, Answered, ListOf, Not, BoolOp, Compare]  # noqa: UP007


def _tokenize(source: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            where = position + len(source[position:]) - len(source[position:].lstrip())
            if source[where : where + 1] == "=":
                raise ExpressionError(f"use '==' to compare, not '=' (at {where + 1})")
            raise ExpressionError(f"unexpected character {source[where]!r} at {where + 1}")
        kind = match.lastgroup
        assert kind is not None
        text, start = match.group(kind), match.start(kind)
        if kind == "name" and text in KEYWORDS:
            kind = "keyword"
        tokens.append((kind, text, start + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    @contextmanager
    def nested(self, position: int) -> Iterator[None]:
        """One level of parentheses, list or `not`; refused past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                N_(
                    "nested too deeply: more than {limit} levels of parentheses, lists or "
                    "'not' (at {position})"
                ),
                limit=MAX_DEPTH,
                position=position,
            )
        try:
            yield
        finally:
            self.depth -= 1

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[1] == text and token[0] in ("op", "keyword"):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise ExpressionError(f"expected {text!r} {self._where()}")

    def _where(self) -> str:
        token = self.peek()
        return f"at {token[2]} (found {token[1]!r})" if token else "at the end"

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("empty condition")
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise ExpressionError(f"unexpected {extra[1]!r} at {extra[2]}")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.accept("or"):
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.accept("and"):
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def not_expr(self) -> Node:
        token = self.peek()
        if self.accept("not"):
            assert token is not None
            with self.nested(token[2]):
                return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.term()
        token = self.peek()
        if token is None:
            return left
        if token[1] == "not" and (after := self.peek(1)) is not None and after[1] == "in":
            self.index += 2
            return Compare("not in", left, self.term())
        if token[1] in COMPARISONS and token[0] in ("op", "keyword"):
            self.index += 1
            return Compare(token[1], left, self.term())
        return left

    def term(self) -> Node:
        token = self.peek()
        if token is None:
            raise ExpressionError("the condition ends too early")
        kind, text, _ = token
        self.index += 1
        if kind == "number":
            if sum(c.isdigit() for c in text) > MAX_NUMBER_DIGITS:
                raise ExpressionError(
                    N_("the number at {position} is too long (at most {limit} digits)"),
                    position=token[2],
                    limit=MAX_NUMBER_DIGITS,
                )
            return Literal(float(text) if "." in text else int(text))
        if kind == "string":
            return Literal(_unquote(text))
        if kind == "keyword" and text in ("true", "false"):
            return Literal(text == "true")
        if kind == "keyword" and text == "answered":
            self.expect("(")
            name = self.peek()
            if name is None or name[0] != "name":
                raise ExpressionError(f"answered() needs a question id {self._where()}")
            self.index += 1
            self.expect(")")
            return Answered(name[1])
        if kind == "name":
            return Ref(text)
        if text == "(":
            with self.nested(token[2]):
                node = self.or_expr()
            self.expect(")")
            return node
        if text == "[":
            items: list[Node] = []
            with self.nested(token[2]):
                if not self.accept("]"):
                    items.append(self.term())
                    while self.accept(","):
                        items.append(self.term())
                    self.expect("]")
            return ListOf(tuple(items))
        raise ExpressionError(f"unexpected {text!r} at {token[2]}")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(source: str) -> Node:
    return _Parser(source).parse()


def references(node: Node) -> set[str]:
    """Question ids a condition reads."""
    if isinstance(node, Ref | Answered):
        return {node.question_id}
    if isinstance(node, ListOf):
        return set().union(*(references(item) for item in node.items))
    if isinstance(node, Not):
        return references(node.operand)
    if isinstance(node, BoolOp):
        return set().union(*(references(item) for item in node.operands))
    if isinstance(node, Compare):
        return references(node.left) | references(node.right)
    return set()


class _Missing:
    """An unanswered question: compares false with everything."""

    def __repr__(self) -> str:
        return "none"


MISSING = _Missing()


def evaluate(node: Node, answers: Mapping[str, Any]) -> bool:
    return _truthy(_value(node, answers))


def _value(node: Node, answers: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        value = answers.get(node.question_id)
        return MISSING if value is None else value
    if isinstance(node, Answered):
        return answers.get(node.question_id) is not None
    if isinstance(node, ListOf):
        return [_value(item, answers) for item in node.items]
    if isinstance(node, Not):
        return not _truthy(_value(node.operand, answers))
    if isinstance(node, BoolOp):
        values = (_truthy(_value(item, answers)) for item in node.operands)
        return all(values) if node.op == "and" else any(values)
    return _compare(node.op, _value(node.left, answers), _value(node.right, answers))


def _truthy(value: Any) -> bool:
    return value is not MISSING and bool(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is MISSING or right is MISSING:
        return False
    if op in ("in", "not in"):
        # Membership is in a list: ["a", "b"], or a multi-choice answer. Never a substring.
        if not isinstance(right, list):
            return False
        found = (
            bool(set(map(_key, left)) & set(map(_key, right)))
            if isinstance(left, list)
            else _key(left) in set(map(_key, right))
        )
        return found if op == "in" else not found
    if isinstance(left, list) or isinstance(right, list):
        if not (isinstance(left, list) and isinstance(right, list)) or op not in ("==", "!="):
            return False
        same = sorted(map(_key, left)) == sorted(map(_key, right))
        return same if op == "==" else not same
    numeric = _is_number(left) and _is_number(right)
    if op == "==":
        return left == right if numeric or type(left) is type(right) else False
    if op == "!=":
        return left != right if numeric or type(left) is type(right) else False
    if not numeric and not (isinstance(left, str) and isinstance(right, str)):
        return False  # "abc" < 3 is no error for a survey taker: it is simply not true
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(value: Any) -> str:
    """Comparable form of a list item (lists may mix numbers and strings)."""
    if _is_number(value) and float(value).is_integer():
        return str(int(value))
    return str(value)
