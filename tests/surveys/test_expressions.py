"""The show_if language: values, operators and precedence, missing answers, type mismatches,
and the parse errors that keep anything but this tiny language out."""

from __future__ import annotations

from typing import Any

import pytest

from surveys.expressions import (
    Answered,
    BoolOp,
    Compare,
    ExpressionError,
    ListOf,
    Literal,
    Not,
    Ref,
    evaluate,
    parse,
    references,
)


def check(source: str, **answers: Any) -> bool:
    return evaluate(parse(source), answers)


# --- values -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-3", -3),
        ("2.5", 2.5),
        ("-0.25", -0.25),
        ('"食堂"', "食堂"),
        ("'食堂'", "食堂"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r'"back\\slash"', "back\\slash"),
        ('""', ""),
        ("true", True),
        ("false", False),
    ],
)
def test_literals(source: str, value: Any) -> None:
    node = parse(source)
    assert node == Literal(value)
    assert type(node.value) is type(value)  # 42 stays an int, 2.5 a float


def test_lists_and_references() -> None:
    assert parse('[1, -2.5, "x", y]') == ListOf((Literal(1), Literal(-2.5), Literal("x"), Ref("y")))
    assert parse("[]") == ListOf(())
    assert parse("overall") == Ref("overall")
    assert parse("answered(why)") == Answered("why")
    assert parse("answered( why )") == Answered("why")


def test_chinese_identifiers_and_strings() -> None:
    assert parse('部门 == "机电学院"') == Compare("==", Ref("部门"), Literal("机电学院"))
    assert check('部门 == "机电学院"', 部门="机电学院")
    assert not check('部门 == "机电学院"', 部门="外语学院")
    assert check('"食堂" in 改进', 改进=["食堂", "宿舍"])


def test_identifiers_may_contain_digits_underscores_and_hyphens() -> None:
    assert parse("q_2-b >= 3") == Compare(">=", Ref("q_2-b"), Literal(3))
    assert check("q_2-b >= 3", **{"q_2-b": 4})
    assert parse("x>-1") == Compare(">", Ref("x"), Literal(-1))


def test_whitespace_is_free() -> None:
    assert parse("  overall<=2  ") == parse("overall <= 2")
    assert parse("\toverall\n<=\n2") == parse("overall <= 2")


# --- operators ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x == 3", True),
        ("x == 4", False),
        ("x != 4", True),
        ("x != 3", False),
        ("x < 4", True),
        ("x < 3", False),
        ("x <= 3", True),
        ("x <= 2", False),
        ("x > 2", True),
        ("x > 3", False),
        ("x >= 3", True),
        ("x >= 4", False),
        ("x == 3.0", True),
        ("x > 2.5", True),
        ("x > -1", True),
        ("x < -0.5", False),
    ],
)
def test_comparisons(source: str, expected: bool) -> None:
    assert check(source, x=3) is expected


def test_negative_and_decimal_answers() -> None:
    assert check("t < 0", t=-2)
    assert check("t == -2", t=-2)
    assert check("t >= -2.5 and t <= -1.5", t=-2)
    assert check("w == 72.5", w=72.5)
    assert not check("w == 72.4", w=72.5)


def test_strings_compare_by_equality_and_order() -> None:
    assert check('s == "食堂"', s="食堂")
    assert check("s == '食堂'", s="食堂")
    assert check('s != "宿舍"', s="食堂")
    assert check('s < "b"', s="a")
    assert check('s == "say \\"hi\\""', s='say "hi"')


def test_in_with_a_single_value() -> None:
    assert check('role in ["教师", "行政"]', role="教师")
    assert not check('role in ["教师", "行政"]', role="学生")
    assert check('role not in ["教师", "行政"]', role="学生")
    assert not check('role not in ["教师", "行政"]', role="行政")
    assert check("overall in [1, 2]", overall=2)
    assert not check("overall in []", overall=2)


def test_in_with_a_multi_choice_answer() -> None:
    chosen = ["食堂", "宿舍"]
    assert check('"食堂" in improvements', improvements=chosen)
    assert not check('"停车" in improvements', improvements=chosen)
    assert check('"停车" not in improvements', improvements=chosen)
    assert not check('"食堂" not in improvements', improvements=chosen)
    # A list on the left: any chosen option in the list.
    assert check('improvements in ["停车", "宿舍"]', improvements=chosen)
    assert not check('improvements in ["停车", "图书馆"]', improvements=chosen)
    assert check('improvements not in ["停车", "图书馆"]', improvements=chosen)
    assert not check('improvements not in ["停车", "宿舍"]', improvements=chosen)


def test_multi_choice_equality_ignores_order() -> None:
    assert check('dishes == ["饺子", "米饭"]', dishes=["米饭", "饺子"])
    assert not check('dishes == ["米饭"]', dishes=["米饭", "饺子"])
    assert check('dishes != ["米饭"]', dishes=["米饭", "饺子"])


def test_answered() -> None:
    assert check("answered(why)", why="太咸")
    assert check("answered(n)", n=0)  # zero is an answer
    assert check("answered(c)", c=[])
    assert not check("answered(why)")
    assert not check("answered(why)", why=None)
    assert check("not answered(why)")


def test_and_or_not() -> None:
    assert check("a == 1 and b == 2", a=1, b=2)
    assert not check("a == 1 and b == 2", a=1, b=3)
    assert check("a == 1 or b == 2", a=0, b=2)
    assert not check("a == 1 or b == 2", a=0, b=0)
    assert check("not a == 1", a=2)
    assert not check("not a == 1", a=1)
    assert check("not not a == 1", a=1)
    assert check("a == 1 and b == 2 and c == 3", a=1, b=2, c=3)
    assert check("a == 9 or b == 9 or c == 3", a=1, b=2, c=3)


def test_bare_values_are_truthy_or_not() -> None:
    assert check("flag", flag=True)
    assert not check("flag", flag=False)
    assert not check("flag", flag=0)
    assert check("true")
    assert not check("false")
    assert check("not false")


def test_precedence_not_binds_tighter_than_and_tighter_than_or() -> None:
    assert parse("a or b and c") == BoolOp("or", (Ref("a"), BoolOp("and", (Ref("b"), Ref("c")))))
    assert parse("a and b or c") == BoolOp("or", (BoolOp("and", (Ref("a"), Ref("b"))), Ref("c")))
    assert parse("not a and b") == BoolOp("and", (Not(Ref("a")), Ref("b")))
    assert parse("not a == 1") == Not(Compare("==", Ref("a"), Literal(1)))
    # Python would say the same: True or (False and False).
    assert check("a or b and c", a=True, b=False, c=False)
    # (not True) and True is false; not (True and True) would be false too, so also check
    # a case where the grouping matters: (not False) and False.
    assert not check("not a and b", a=False, b=False)
    assert check("not a or b", a=False, b=False)


def test_parentheses_override_precedence() -> None:
    assert parse("(a or b) and c") == BoolOp("and", (BoolOp("or", (Ref("a"), Ref("b"))), Ref("c")))
    assert not check("(a or b) and c", a=True, b=False, c=False)
    assert check("a or b and c", a=True, b=False, c=False)
    assert check("not (a and b)", a=True, b=False)
    assert check("((overall <= 2))", overall=1)
    assert check(
        '"食堂" in improvements or (nps >= 9 and overall == 5)',
        improvements=["宿舍"],
        nps=10,
        overall=5,
    )
    assert not check(
        '"食堂" in improvements or (nps >= 9 and overall == 5)',
        improvements=["宿舍"],
        nps=10,
        overall=4,
    )


def test_docstring_examples() -> None:
    assert check("overall <= 2", overall=2)
    assert check('role in ["教师", "行政"] and not answered(why)', role="行政")
    assert not check('role in ["教师", "行政"] and not answered(why)', role="行政", why="x")


# --- unanswered questions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "x == 1",
        "x != 1",
        "x < 1",
        "x <= 1",
        "x > 1",
        "x >= 1",
        'x == "a"',
        'x != "a"',
        "x in [1, 2]",
        "x not in [1, 2]",
        '"a" in x',
        '"a" not in x',
        "x == []",
        "x != []",
        "1 == x",
        "1 != x",
        "x == x",
    ],
)
def test_an_unanswered_question_makes_every_comparison_false(source: str) -> None:
    assert not check(source)
    assert not check(source, x=None)  # skipped


def test_a_bare_unanswered_question_is_false() -> None:
    # Inside and/or/not it already is; on its own, evaluate() calls bool() on the MISSING
    # marker, which is truthy, so a skipped question made `show_if = "flag"` show.
    assert not check("flag and true")
    assert check("not flag")
    assert not check("flag")
    assert not check("flag", flag=None)


def test_not_of_a_false_comparison_with_a_missing_answer_is_true() -> None:
    # Documented: the comparison is false, so its negation holds.
    assert check("not x == 1")
    assert not check("x == 1 or x != 1")


# --- type mismatches are false, never errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "answers"),
    [
        ('x < "a"', {"x": 3}),
        ('x <= "a"', {"x": 3}),
        ('x > "a"', {"x": 3}),
        ('x >= "a"', {"x": 3}),
        ("x > 2", {"x": "abc"}),
        ('x == "3"', {"x": 3}),
        ("x == 3", {"x": "3"}),
        ("x < [1]", {"x": 3}),
        ("x > 1", {"x": [2]}),
        ("x in 5", {"x": 5}),
        ("x in true", {"x": 1}),
        ("x >= 1", {"x": ["a"]}),
    ],
)
def test_type_mismatched_comparisons_are_false(source: str, answers: dict[str, Any]) -> None:
    assert check(source, **answers) is False


@pytest.mark.parametrize(
    ("source", "answers"),
    [
        # A multi-choice answer compared with a number: `sorted(map(str, 5))` raises TypeError.
        ("dishes != 5", {"dishes": ["米饭"]}),
        # A number `in` a string: Python's `3 in "12345"` raises TypeError.
        ('overall not in "12345"', {"overall": 3}),
    ],
)
def test_type_mismatches_never_raise(source: str, answers: dict[str, Any]) -> None:
    # `!=`/`not in` of mismatched types may reasonably be either; what matters is that a
    # member answering the survey never hits an exception.
    assert check(source, **answers) in (True, False)


@pytest.mark.parametrize(
    ("source", "answers"),
    [
        ("dishes == 5", {"dishes": ["米饭"]}),
        ('overall in "12345"', {"overall": 3}),
        # A string is not a list of its characters.
        ('s == ["a", "b"]', {"s": "ab"}),
        ('dishes == "米"', {"dishes": ["米"]}),
        ('dishes in "米饭套餐"', {"dishes": ["米"]}),
    ],
)
def test_lists_only_equal_or_contain_lists(source: str, answers: dict[str, Any]) -> None:
    assert check(source, **answers) is False


# --- parse errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "",
        "   ",
        "@#$",
        "overall <= 2 ;",
        "(overall <= 2",
        "((overall <= 2)",
        "overall <= 2)",
        "overall <=",
        "overall <= 2 and",
        "overall <= 2 or",
        "not",
        "overall in",
        "overall not",
        "== 2",
        "overall == == 2",
        "overall = 2",
        "overall <= 2 overall",
        "1 2",
        "[1, 2",
        "[1, 2,]",
        "[1 2]",
        '"unterminated',
        "'unterminated",
        "__import__('os')",
        "__import__('os').system('ls')",
        "overall.__class__",
        "overall.real",
        "len(improvements)",
        "eval('1')",
        "overall(1)",
        "answered",
        "answered why",
        "answered()",
        "answered(why",
        'answered("why")',
        "answered(1)",
        "answered(why, overall)",
        "overall < 1 < 2",
        "lambda: 1",
        "overall + 1 > 2",
        "overall <= 2 && why",
        "overall（<= 2）",
    ],
)
def test_parse_errors(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse(source)


def test_parse_errors_say_where() -> None:
    with pytest.raises(ExpressionError, match=r"unexpected '\(' at 11"):
        parse("__import__('os')")
    with pytest.raises(ExpressionError, match=r"unexpected character '\.' at 8"):
        parse("overall.__class__")
    with pytest.raises(ExpressionError, match="expected '\\)' at the end"):
        parse("(overall <= 2")
    with pytest.raises(ExpressionError, match="ends too early"):
        parse("overall <=")
    with pytest.raises(ExpressionError, match="answered\\(\\) needs a question id"):
        parse('answered("why")')


def test_a_single_equals_sign_is_named_in_the_error() -> None:
    # The tokenizer skips the blank before '=' and then reports the blank: "unexpected
    # character ' ' at 8", which points the survey author at the wrong character.
    with pytest.raises(ExpressionError, match="'='"):
        parse("overall = 2")


def test_keywords_are_not_question_ids() -> None:
    with pytest.raises(ExpressionError):
        parse("and == 1")
    with pytest.raises(ExpressionError):
        parse("in")


# --- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 == 1", set()),
        ("true", set()),
        ("overall <= 2", {"overall"}),
        ("answered(why)", {"why"}),
        ("not answered(why)", {"why"}),
        ('role in ["教师", dept]', {"role", "dept"}),
        (
            '"食堂" in improvements or (nps >= 9 and overall == 5)',
            {"improvements", "nps", "overall"},
        ),
        ("a == b", {"a", "b"}),
        ("a == 1 and a == 2", {"a"}),
        ("部门 == '机电学院'", {"部门"}),
        ("[]", set()),
    ],
)
def test_references(source: str, expected: set[str]) -> None:
    assert references(parse(source)) == expected
