"""Survey definitions: the documented example parses; every problem is reported at once, each
with its file, line and question; times without an offset are read in the union's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from surveys.definition import (
    DefinitionError,
    QuestionType,
    SurveyDefinition,
    Text,
    parse_definition,
)
from surveys.expressions import Compare, Literal, Ref

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The example of the issue, with the `text` its second question lacks.
EXAMPLE = """\
id = "service-2026q4"                       # stable slug
title = { zh = "工会服务满意度调查", en = "Union service satisfaction" }   # string or table
description = "..."
anonymous = true
audience = ["all"]                          # or department names and/or roles
opens_at = 2026-12-01T09:00:00+08:00        # optional
closes_at = 2026-12-08T18:00:00+08:00       # optional
reminders = ["3d", "1d"]                    # before closes_at, to non-respondents

[[questions]]
id = "overall"
type = "scale"          # single | multi | scale | nps | text | number
text = "您对工会服务的总体满意度？"
min = 1
max = 5
labels = { min = "很不满意", max = "很满意" }

[[questions]]
id = "why"
type = "text"
text = "不满意的原因？"
required = false
max_length = 1000
show_if = "overall <= 2"
"""

HEAD = """\
id = "s"
title = "调查"
"""


def parse(source: str, tz: ZoneInfo = SHANGHAI) -> SurveyDefinition:
    return parse_definition(source, "s.toml", tz)


def problems(source: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse(source)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def line_of(source: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle`."""
    found = [i for i, line in enumerate(source.splitlines(), start=1) if needle in line]
    return found[occurrence - 1]


def question(body: str, qid: str = "q", kind: str = "text") -> str:
    return f'\n[[questions]]\nid = "{qid}"\ntype = "{kind}"\ntext = "问题"\n{body}'


# --- the example ----------------------------------------------------------------------------------


def test_the_issue_example_parses() -> None:
    survey = parse(EXAMPLE)
    assert survey.id == "service-2026q4"
    assert survey.title.get("en") == "Union service satisfaction"
    assert survey.title.get("zh") == "工会服务满意度调查"
    assert survey.title.get(None) == "工会服务满意度调查"
    assert survey.title.get("fr") == "工会服务满意度调查"  # falls back to zh
    assert survey.description == Text({"zh": "..."})
    assert survey.anonymous is True
    assert survey.audience == ("all",)
    assert survey.opens_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert survey.closes_at == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert survey.reminders == (timedelta(days=3), timedelta(days=1))

    overall, why = survey.questions
    assert overall.id == "overall" and overall.type is QuestionType.SCALE
    assert overall.text.get("en") == "您对工会服务的总体满意度？"  # only zh given
    assert (overall.min, overall.max, overall.required) == (1, 5, True)
    assert overall.labels["min"].get("zh") == "很不满意"
    assert overall.labels["max"].get("zh") == "很满意"
    assert why.type is QuestionType.TEXT and why.required is False
    assert why.max_length == 1000
    assert why.show_if == "overall <= 2"
    assert why.condition == Compare("<=", Ref("overall"), Literal(2))
    assert why.is_shown({"overall": 2}) and not why.is_shown({"overall": 3})
    assert not why.is_shown({})
    assert overall.is_shown({})
    assert survey.question("why") is why and survey.index_of("why") == 1


def test_the_example_without_the_second_text_is_refused_at_that_question() -> None:
    source = EXAMPLE.replace('text = "不满意的原因？"\n', "")
    assert problems(source) == [
        f"s.toml:{line_of(source, '[[questions]]', 2)}: question 'why': text is missing"
    ]


def test_defaults() -> None:
    survey = parse(HEAD + question(""))
    assert survey.anonymous is False
    assert survey.audience == ("all",)
    assert survey.opens_at is survey.closes_at is None
    assert survey.reminders == ()
    assert survey.description is None
    (q,) = survey.questions
    assert q.required is True and q.max_length == 1000 and q.condition is None


def test_every_question_type_with_its_fields() -> None:
    source = (
        HEAD
        + """
audience = ["机电学院", "officer"]

[[questions]]
id = "canteen"
type = "single"
text = { zh = "最常吃什么？", en = "What do you eat most?" }
options = [{ zh = "米饭", en = "Rice" }, { key = "noodles", zh = "面条", en = "Noodles" }]
other = true

[[questions]]
id = "dishes"
type = "multi"
text = "喜欢哪些？"
options = ["米饭", "面条", "饺子"]
max_choices = 2

[[questions]]
id = "nps"
type = "nps"
text = "推荐给同事的可能性？"
labels = { min = "完全不可能", max = "非常可能" }

[[questions]]
id = "weight"
type = "number"
text = "体重（公斤）"
min = 30.5
max = 200

[[questions]]
id = "years"
type = "number"
text = "工龄"
integer = true

[[questions]]
id = "points"
type = "scale"
text = "评分"
min = 0
max = 10
show_if = '"米饭" in dishes or canteen == "noodles"'
"""
    )
    survey = parse(source)
    assert survey.audience == ("机电学院", "officer")
    canteen, dishes, nps, weight, years, points = survey.questions
    assert canteen.option_keys() == ["米饭", "noodles"]
    assert canteen.options[1].text.get("en") == "Noodles"
    assert canteen.other is True and canteen.max_choices is None
    assert dishes.option_keys() == ["米饭", "面条", "饺子"] and dishes.max_choices == 2
    assert (nps.min, nps.max) == (0, 10) and nps.labels["max"].get("zh") == "非常可能"
    assert (weight.min, weight.max, weight.integer) == (30.5, 200, False)
    assert (years.min, years.max, years.integer) == (None, None, True)
    assert (points.min, points.max) == (0, 10)
    assert points.is_shown({"dishes": ["米饭"]})
    assert points.is_shown({"canteen": "noodles"})
    assert not points.is_shown({"dishes": ["饺子"], "canteen": "米饭"})


def test_multi_max_choices_defaults_to_every_option_and_other() -> None:
    survey = parse(HEAD + question('options = ["a", "b", "c"]\nother = true', kind="multi"))
    assert survey.questions[0].max_choices == 4


def test_one_option_and_other_make_two_choices() -> None:
    survey = parse(HEAD + question('options = ["a"]\nother = true', kind="single"))
    assert survey.questions[0].option_keys() == ["a"]


# --- every problem, together, with its line and question --------------------------------------

BROKEN = """\
id = "Bad Slug!"
title = { zh = "调查", fr = "Enquête" }
colour = "red"
opens_at = 2026-12-08T09:00:00+08:00
closes_at = 2026-12-01T18:00:00+08:00
reminders = ["3d", "soon"]

[[questions]]
id = "kind"
type = "essay"
text = "?"

[[questions]]
id = "notext"
type = "text"

[[questions]]
id = "one"
type = "single"
text = "?"
options = ["只有一个"]
max_choices = 1

[[questions]]
id = "twice"
type = "multi"
text = "?"
options = ["米饭", "米饭", "面条"]
max_choices = 5
colour = "blue"

[[questions]]
id = "twice"
type = "text"
text = "?"

[[questions]]
id = "9lives"
type = "text"
text = "?"

[[questions]]
id = "scale"
type = "scale"
text = "?"
min = 1
max = 20
labels = { min = "低", middle = "中" }

[[questions]]
id = "nps"
type = "nps"
text = "?"
min = 1

[[questions]]
id = "number"
type = "number"
text = "?"
min = 10
max = 10

[[questions]]
id = "essay"
type = "text"
text = "?"
max_length = 5000

[[questions]]
id = "later"
type = "text"
text = "?"
show_if = "future == 1 or ghost == 2"

[[questions]]
id = "future"
type = "number"
text = "?"

[[questions]]
id = "syntax"
type = "text"
text = "?"
show_if = "essay =="
"""


def test_every_problem_is_reported_together_with_line_and_question() -> None:
    at = lambda needle, n=1: f"s.toml:{line_of(BROKEN, needle, n)}: "  # noqa: E731
    assert problems(BROKEN) == [
        at("colour = ") + "unknown key 'colour'",
        at('id = "Bad Slug!"')
        + "id must be a slug like 'service-2026q4' (lowercase letters, digits, '-', '_')",
        at("title = ") + "title: unknown language(s) ['fr'] (use zh, en)",
        at("closes_at = ") + "closes_at must be after opens_at",
        at("reminders = ") + "reminder 'soon' is not a duration like '3d', '12h', '30m'",
        at('type = "essay"') + "question 'kind': type must be one of "
        "single, multi, scale, nps, text, number",
        at("[[questions]]", 2) + "question 'notext': text is missing",
        at('options = ["只有一个"]') + "question 'one': options must list at least two choices",
        at("max_choices = 1") + "question 'one': max_choices is only for multi questions",
        at('colour = "blue"') + "question 'twice': unknown key 'colour'",
        at('options = ["米饭", "米饭"') + "question 'twice': two options have the same text",
        at("max_choices = 5") + "question 'twice': max_choices must be 1–3",
        at('id = "twice"', 2) + "question 'twice': this id is used twice or reserved",
        at('id = "9lives"')
        + "question '9lives': id must start with a letter and use letters, digits, '_' or '-'",
        at("min = 1", 1)
        + "question 'scale': a scale needs whole-number min and max, 2 to 11 points",
        at("labels = { min") + "question 'scale': labels takes only min and max",
        at("min = 1", 2) + "question 'nps': nps is always 0–10",
        at("max = 10") + "question 'number': max must be greater than min",
        at("max_length = 5000") + "question 'essay': max_length must be 1–4000",
        at('show_if = "future')
        + "question 'later': show_if may refer only to earlier questions, not future, ghost",
        at('show_if = "essay') + "question 'syntax': show_if: the condition ends too early",
    ]


def test_nothing_is_returned_when_one_problem_is_found() -> None:
    source = EXAMPLE.replace('type = "text"', 'type = "txt"')
    assert len(problems(source)) == 1


# --- single checks, one at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "key", "message"),
    [
        ('options = ["a", "b"]\nother = 1', "single", "other", "other must be true or false"),
        ('options = "a, b"', "single", "options", "options must list at least two choices"),
        ("options = []", "single", "options", "options must list at least two choices"),
        ('options = ["a", ""]', "single", "options", "option must not be empty"),
        (
            'options = [{ zh = "甲", en = "A" }, { zh = "甲", en = "B" }]',
            "single",
            "options",
            "two options have the same text",
        ),
        (
            'options = [{ key = "x", zh = "甲" }, { key = "x", zh = "乙" }]',
            "single",
            "options",
            "two options have the same text",
        ),
        (
            "options = [" + ", ".join(f'"{i}"' for i in range(21)) + "]",
            "single",
            "options",
            "at most 20 options",
        ),
        (
            'options = ["a", "b"]\nmax_choices = 0',
            "multi",
            "max_choices",
            "max_choices must be 1–2",
        ),
        (
            'options = ["a", "b"]\nmax_choices = 3',
            "multi",
            "max_choices",
            "max_choices must be 1–2",
        ),
        (
            'options = ["a", "b"]\nmax_choices = "2"',
            "multi",
            "max_choices",
            "max_choices must be 1–2",
        ),
        (
            'options = ["a", "b"]\nother = true\nmax_choices = 4',
            "multi",
            "max_choices",
            "max_choices must be 1–3",
        ),
        (
            'options = ["a", "b"]\nmax_choices = 1',
            "single",
            "max_choices",
            "max_choices is only for multi questions",
        ),
        ("min = 3\nmax = 3", "scale", "min", "a scale needs whole-number min and max"),
        ("min = 5\nmax = 1", "scale", "min", "a scale needs whole-number min and max"),
        ("min = 0\nmax = 11", "scale", "min", "a scale needs whole-number min and max"),
        ("min = 1.5\nmax = 5", "scale", "min", "a scale needs whole-number min and max"),
        ('min = 1\nmax = "5"', "scale", "min", "a scale needs whole-number min and max"),
        ("min = 0\nmax = 10", "nps", "min", "nps is always 0–10"),
        ('labels = { min = "低", max = "高", mid = "中" }', "scale", "labels", "labels takes"),
        ('labels = ["低", "高"]', "scale", "labels", "labels takes only min and max"),
        ('labels = { mid = "中" }', "nps", "labels", "labels takes only min and max"),
        ('labels = { min = "" }', "scale", "labels", "label min must not be empty"),
        ("min = 5\nmax = 1", "number", "max", "max must be greater than min"),
        ("min = 1.5\nmax = 1.5", "number", "max", "max must be greater than min"),
        ('min = "0"', "number", "min", "min must be a number"),
        ("max = true", "number", "max", "max must be a number"),
        ('integer = "yes"', "number", "integer", "integer must be true or false"),
        ("max_length = 0", "text", "max_length", "max_length must be 1–4000"),
        ("max_length = 4001", "text", "max_length", "max_length must be 1–4000"),
        ('max_length = "50"', "text", "max_length", "max_length must be 1–4000"),
        ('required = "no"', "text", "required", "required must be true or false"),
        ("show_if = 1", "text", "show_if", "show_if must be a string"),
        ('show_if = "q == 1"', "text", "show_if", "show_if may refer only to earlier"),
        ('show_if = "answered(q)"', "text", "show_if", "show_if may refer only to earlier"),
        ('show_if = "first == 1 and"', "text", "show_if", "show_if: the condition ends"),
        ("show_if = \"__import__('os')\"", "text", "show_if", "show_if: unexpected '('"),
        ('show_if = "first.real > 1"', "text", "show_if", "show_if: unexpected character '.'"),
        ('show_if = ""', "text", "show_if", "show_if: empty condition"),
        ('placeholder = "…"', "text", "placeholder", "unknown key 'placeholder'"),
    ],
)
def test_question_problem(body: str, kind: str, key: str, message: str) -> None:
    first = question("", qid="first", kind="number")
    source = HEAD + first + question(body, kind=kind)
    key_line = next(
        i
        for i, line in enumerate(source.splitlines(), start=1)
        if i > line_of(source, 'id = "q"') and line.startswith(f"{key} =")
    )
    (problem,) = problems(source)
    assert problem.startswith(f"s.toml:{key_line}: question 'q': {message}"), problem


@pytest.mark.parametrize(
    ("body", "kind", "key", "message"),
    [
        # The problem is on the only key given, but is reported at the question's first line.
        ("max = 5", "nps", "max", "nps is always 0–10"),
        ("max = 20", "scale", "max", "a scale needs whole-number min and max"),
    ],
)
def test_a_range_problem_points_at_the_key_that_is_there(
    body: str, kind: str, key: str, message: str
) -> None:
    source = HEAD + question(body, kind=kind)
    (problem,) = problems(source)
    assert problem.startswith(f"s.toml:{line_of(source, f'{key} =')}: question 'q': {message}")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("max_length = true", "text"),
        ('options = ["a", "b"]\nmax_choices = true', "multi"),
        ("min = false\nmax = 5", "scale"),
    ],
)
def test_booleans_are_not_numbers(body: str, kind: str) -> None:
    # `isinstance(True, int)` holds in Python; the number question already excludes bool.
    assert len(problems(HEAD + question(body, kind=kind))) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('id = "q"\ntype = "text"\ntext = "?"\nid2 = 1', "question 'q': unknown key 'id2'"),
        ('type = "text"\ntext = "?"', "question '#1': id must start with a letter"),
        ('id = 7\ntype = "text"\ntext = "?"', "question '#1': id must start with a letter"),
        ('id = "q"\ntext = "?"', "question 'q': type must be one of"),
        ('id = "and"\ntype = "text"\ntext = "?"', "question 'and': this id is used twice or"),
        ('id = "answered"\ntype = "text"\ntext = "?"', "question 'answered': this id is used"),
        ('id = "q"\ntype = "text"\ntext = ""', "question 'q': text must not be empty"),
        ('id = "q"\ntype = "text"\ntext = "  "', "question 'q': text must not be empty"),
        ('id = "q"\ntype = "text"\ntext = 5', "question 'q': text must be a string or a table"),
        ('id = "q"\ntype = "text"\ntext = {}', "question 'q': text must be a string or a table"),
        (
            'id = "q"\ntype = "text"\ntext = { zh = "问", ja = "問" }',
            "question 'q': text: unknown language(s) ['ja'] (use zh, en)",
        ),
        (
            'id = "q"\ntype = "text"\ntext = "' + "长" * 4001 + '"',
            "question 'q': text is longer than 4000 characters",
        ),
    ],
)
def test_question_identity_and_text_problems(body: str, message: str) -> None:
    (problem,) = problems(HEAD + "\n[[questions]]\n" + body + "\n")
    assert message in problem, problem


@pytest.mark.parametrize(
    ("top", "key", "message"),
    [
        ('id = "Service"', "id", "id must be a slug"),
        ('id = "-x"', "id", "id must be a slug"),
        ('id = "工会"', "id", "id must be a slug"),
        ('id = "' + "x" * 65 + '"', "id", "id must be a slug"),
        ("id = 5", "id", "id must be a slug"),
        ('title = ""', "title", "title must not be empty"),
        ("title = 5", "title", "title must be a string or a table"),
        ('description = { zh = "说明", de = "x" }', "description", "description: unknown language"),
        ('anonymous = "yes"', "anonymous", "anonymous must be true or false"),
        ("audience = []", "audience", "audience must be a list"),
        ('audience = "all"', "audience", "audience must be a list"),
        ('audience = ["all", ""]', "audience", "audience must be a list"),
        ('opens_at = "2026-12-01"', "opens_at", "opens_at must be a date-time"),
        ("opens_at = 09:00:00", "opens_at", "opens_at must be a date-time"),
        ('reminders = "1d"', "reminders", "reminders must be a list"),
        ('reminders = ["1w"]', "reminders", "reminder '1w' is not a duration"),
        ('reminders = ["-1d"]', "reminders", "reminder '-1d' is not a duration"),
        ("reminders = [3]", "reminders", "reminder 3 is not a duration"),
        ('reminders = ["1d"]', "reminders", "reminders are counted back from closes_at"),
        ('questionz = "typo"', "questionz", "unknown key 'questionz'"),
    ],
)
def test_survey_problem(top: str, key: str, message: str) -> None:
    body = HEAD.replace('id = "s"\n', "") if key == "id" else HEAD
    body = body.replace('title = "调查"\n', "") if key == "title" else body
    source = f"# a comment\n{body}{top}\n" + question("")
    (problem,) = problems(source)
    assert problem.startswith(f"s.toml:{line_of(source, f'{key} =')}: {message}"), problem


def test_a_title_only_in_an_unknown_language() -> None:
    source = HEAD.replace('"调查"', '{ fr = "Enquête" }') + question("")
    assert problems(source) == [
        "s.toml:2: title: unknown language(s) ['fr'] (use zh, en)",
        "s.toml:2: title must not be empty",
    ]


def test_a_multi_question_without_options_is_one_problem() -> None:
    # With no options the default max_choices is 0, and "max_choices must be 1–0" is added
    # (at the question's first line) although the file has no max_choices at all.
    source = HEAD + question("options = []", kind="multi")
    assert problems(source) == [
        f"s.toml:{line_of(source, 'options =')}: question 'q': "
        "options must list at least two choices"
    ]


def test_missing_title_and_id_and_questions() -> None:
    assert problems('description = "x"\n') == [
        "s.toml:1: id must be a slug like 'service-2026q4' (lowercase letters, digits, '-', '_')",
        "s.toml:1: title is missing",
        "s.toml:1: a survey needs at least one [[questions]]",
    ]


def test_closes_at_equal_to_opens_at_is_refused() -> None:
    source = HEAD + "opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-01T09:00:00\n"
    source += question("")
    assert problems(source) == ["s.toml:4: closes_at must be after opens_at"]


def test_closes_at_is_compared_across_offsets() -> None:
    # 09:00 in Shanghai is 01:00 UTC: a closing at 02:00 UTC is after it.
    source = HEAD + "opens_at = 2026-12-01T09:00:00+08:00\ncloses_at = 2026-12-01T02:00:00Z\n"
    survey = parse(source + question(""))
    assert survey.closes_at - survey.opens_at == timedelta(hours=1)


# --- reminders and time zones ---------------------------------------------------------------------


def test_reminders_are_sorted_farthest_first_without_duplicates() -> None:
    source = (
        HEAD
        + 'closes_at = 2026-12-08T18:00:00+08:00\nreminders = ["1d", "30m", "3d", "12h", " 24h "]\n'
        + question("")
    )
    assert parse(source).reminders == (
        timedelta(days=3),
        timedelta(days=1),
        timedelta(hours=12),
        timedelta(minutes=30),
    )


def test_naive_times_are_read_in_the_given_zone() -> None:
    source = (
        HEAD + "opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-08T18:00:00\n" + question("")
    )
    shanghai = parse(source)
    assert shanghai.opens_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert shanghai.closes_at == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert shanghai.opens_at.utcoffset() == timedelta(hours=8)

    berlin = parse(source, ZoneInfo("Europe/Berlin"))
    assert berlin.opens_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_date_means_midnight_in_the_zone() -> None:
    source = HEAD + "closes_at = 2026-12-08\n" + question("")
    assert parse(source).closes_at == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)


def test_explicit_offsets_are_kept() -> None:
    source = HEAD + "opens_at = 2026-12-01T09:00:00Z\n" + question("")
    assert parse(source, ZoneInfo("Asia/Shanghai")).opens_at == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )


def test_the_default_zone_is_shanghai() -> None:
    source = HEAD + "opens_at = 2026-12-01T09:00:00\n" + question("")
    assert parse_definition(source).opens_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


# --- texts in several languages ---------------------------------------------------------------


def test_per_locale_tables_everywhere() -> None:
    source = """\
id = "s"
title = { zh = "调查", en = "Survey" }
description = { en = "Only English" }

[[questions]]
id = "q"
type = "scale"
text = { zh = "评分", en = "Rate" }
labels = { min = { zh = "低", en = "Low" }, max = "高" }
""" + question('options = [{ en = "Yes" }, { en = "No", zh = "否" }]', "c", "single")
    survey = parse(source)
    assert survey.title.get("en") == "Survey" and survey.title.get("zh") == "调查"
    assert survey.description is not None and survey.description.get("zh") == "Only English"
    q, c = survey.questions
    assert q.text.get("en") == "Rate"
    assert q.labels["min"].get("en") == "Low" and q.labels["max"].get("en") == "高"
    assert c.option_keys() == ["Yes", "No"]  # the key is the first language written
    assert c.options[1].text.get("zh") == "否"


def test_texts_are_stripped() -> None:
    survey = parse('id = "s"\ntitle = "  调查  "\n' + question(""))
    assert survey.title.get("zh") == "调查"


# --- bad TOML ---------------------------------------------------------------------------------


def test_invalid_toml_is_one_clear_problem() -> None:
    source = HEAD + 'description = "unterminated\n' + question("")
    (problem,) = problems(source)
    assert problem.startswith("s.toml: not valid TOML: ")
    assert "line 3" in problem


def test_a_repeated_key_is_invalid_toml() -> None:
    (problem,) = problems(HEAD + 'title = "again"\n' + question(""))
    assert problem.startswith("s.toml: not valid TOML: ")


def test_an_empty_file() -> None:
    assert len(problems("")) == 3  # id, title, questions


# --- line numbers with TOML the parser allows --------------------------------------------------


def test_question_headers_with_comments_or_spaces_keep_line_numbers() -> None:
    # `[[questions]]  # …` and `[[ questions ]]` are valid TOML headers; the line finder only
    # recognises the bare `[[questions]]`, so every question line shifts to the wrong place.
    source = (
        HEAD
        + """
[[questions]]  # the first
id = "a"
type = "text"
text = "?"

[[ questions ]]
id = "b"
type = "essay"
text = "?"
"""
    )
    (problem,) = problems(source)
    assert problem.startswith(f"s.toml:{line_of(source, 'essay')}: question 'b': type must")


def test_a_broken_earlier_question_is_not_reported_again_by_a_later_show_if() -> None:
    # 'c' is earlier, only its type is wrong; "show_if may refer only to earlier questions,
    # not c" is a second, false report of the same mistake.
    source = (
        HEAD
        + question("", qid="c", kind="stars")
        + question('show_if = "c == 1"', qid="d", kind="text")
    )
    assert problems(source) == [
        f"s.toml:{line_of(source, 'stars')}: question 'c': type must be one of "
        "single, multi, scale, nps, text, number"
    ]
