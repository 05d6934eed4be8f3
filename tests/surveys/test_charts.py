"""Charts: Chinese labels are drawn with a real Chinese font (no missing-glyph warning), the
PNG is valid, and importing the survey modules does not import matplotlib."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import warnings
from contextlib import contextmanager

import pytest

from storage.uow import Repositories
from surveys.charts import chinese_font_family, font_path, render_chart
from surveys.definition import parse_definition
from surveys.results import compute_results
from tests.surveys.test_results import choice, create_survey, respond, source, value

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFINITION = parse_definition(source(anonymous=True))


def q(question_id: str):
    return DEFINITION.question(question_id)


@contextmanager
def strict(caplog: pytest.LogCaptureFixture):
    """Every warning is an error, and matplotlib may log nothing at WARNING or above (its
    font manager logs "findfont: Font family ... not found" instead of warning)."""
    with caplog.at_level(logging.WARNING, logger="matplotlib"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    problems = [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")]
    assert not problems, problems


def check_png(data: bytes) -> tuple[int, int]:
    from PIL import Image

    assert data.startswith(PNG_SIGNATURE)
    assert 5_000 < len(data) < 500_000
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_the_bundled_font_is_a_simplified_chinese_font():
    path = font_path()
    assert path is not None and path.is_file(), "pip install pylopdf-fonts-zh-cn"
    assert chinese_font_family() == "Noto Sans SC"


def test_chinese_choice_chart_has_no_missing_glyphs(caplog):
    counts = {"米饭": 12, "面条": 5, "饺子": 0, "other": 2}
    with strict(caplog):
        data = render_chart(q("dishes"), counts, "zh")
    width, height = check_png(data)
    assert width > 400 and height > 200


@pytest.mark.parametrize(
    ("question_id", "counts"),
    [
        ("overall", {1.0: 2, 3.0: 5, 5.0: 1}),
        ("nps", {0.0: 1, 6.0: 2, 8.0: 3, 9.0: 4, 10.0: 6}),
        ("years", {1.0: 3, 2.0: 1, 30.0: 2}),
        ("years", {float(v): v % 4 + 1 for v in range(0, 60)}),  # many values: ranges
        ("canteen", {}),  # no answers yet
    ],
)
def test_every_chart_kind_renders_chinese_cleanly(caplog, question_id, counts):
    with strict(caplog):
        check_png(render_chart(q(question_id), counts, "zh"))


def test_english_labels_and_a_translated_other(caplog):
    with strict(caplog):
        data = render_chart(q("canteen"), {"米饭": 1, "other": 1}, "en", gettext=str.upper)
    check_png(data)


async def test_charts_from_computed_results(database, caplog):
    survey = await create_survey(database, anonymous=True)
    await respond(database, survey, [*choice("dishes", "米饭", other="包子"), value(4)])
    await respond(database, survey, [*choice("dishes", "饺子"), value(2)])
    async with database.sessions() as session:
        results = await compute_results(Repositories(session), survey)
    by_id = {r.question.id: r for r in results.questions}
    assert by_id["dishes"].chart_counts == {"米饭": 1, "面条": 0, "饺子": 1, "other": 1}
    assert by_id["overall"].chart_counts == {2.0: 1, 4.0: 1}
    with strict(caplog):
        for question_id in ("dishes", "overall"):
            result = by_id[question_id]
            check_png(render_chart(result.question, result.chart_counts, "zh"))


def test_text_questions_have_no_chart():
    with pytest.raises(ValueError):
        render_chart(q("comment"), {}, "zh")


def test_the_check_catches_a_font_without_chinese():
    """Control: drawing Chinese with matplotlib's default font does warn, so the strict
    check above would fail if the Chinese font were not used."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure()
    FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, "食堂满意度", family="DejaVu Sans")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="missing from font"):
            figure.savefig(io.BytesIO(), format="png")


def test_importing_survey_modules_does_not_import_matplotlib_or_aiogram():
    code = (
        "import sys\n"
        "import surveys.charts, surveys.results, surveys.export\n"
        "import storage.repos.survey_results\n"
        "heavy = [m for m in ('matplotlib', 'aiogram', 'openpyxl', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
