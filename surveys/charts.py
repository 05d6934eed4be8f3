"""Result charts as PNG (matplotlib, Agg, no GUI). Chinese is drawn with Noto Sans SC from the
`pylopdf-fonts-zh-cn` package (SIL Open Font License 1.1), so a plain `pip install` draws it.

matplotlib is imported inside the functions: importing this module costs nothing, and the
bot's start-up and the CLI stay fast.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import math
import textwrap
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from surveys.answering import OTHER
from surveys.definition import Question, QuestionType

logger = logging.getLogger(__name__)

FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"
# Installed system fonts tried when the package is missing (e.g. a distribution package).
SYSTEM_FALLBACKS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
OTHER_LABELS = {"zh": "其他", "en": "Other"}
MAX_BARS = 30  # a number question with more distinct values is drawn as a histogram
HISTOGRAM_BINS = 12
BAR_COLOR = "#3b7dd8"
LABEL_WIDTH = 16  # characters per line of an option label (CJK characters are wide)


def font_path() -> Path | None:
    """The bundled Simplified Chinese font file, if its package is installed."""
    try:
        path = resources.files(FONT_PACKAGE) / FONT_FILE
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


@functools.cache
def chinese_font_family() -> str | None:
    """Registers the bundled font with matplotlib once; its family name (or a system CJK
    font's), or None when there is none (Chinese would then be drawn as boxes)."""
    from matplotlib import font_manager

    path = font_path()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return str(font_manager.FontProperties(fname=str(path)).get_name())
    available = {font.name for font in font_manager.fontManager.ttflist}
    for family in SYSTEM_FALLBACKS:
        if family in available:
            return family
    logger.warning("no Chinese font found: install %s", FONT_PACKAGE.replace("_", "-"))
    return None


def render_chart(
    question: Question,
    counts: Mapping[Any, int],
    locale: str | None,
    *,
    gettext: Callable[[str], str] | None = None,
    title: bool = True,
) -> bytes:
    """A PNG bar chart of one question's answers.

    `counts`: option key → responses for single/multi (the key "other" for typed other
    choices); value → responses for scale/nps/number (SurveyResultsRepository.option_counts /
    number_counts of that question). Text questions have no chart (ValueError).
    """
    if question.type is QuestionType.TEXT:
        raise ValueError("text questions have no chart")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    family = chinese_font_family()
    # The font goes on each text, not into the global rcParams: charts can be drawn in worker
    # threads. Latin and digits fall back per glyph to matplotlib's own font when needed.
    font: dict[str, Any] = {"fontfamily": [family, "DejaVu Sans"]} if family else {}
    if question.type in (QuestionType.SINGLE, QuestionType.MULTI):
        labels, values = _choice_bars(question, counts, locale, gettext)
        figure = Figure(figsize=(7.5, 1.4 + 0.45 * max(len(labels), 2)), dpi=110)
        FigureCanvasAgg(figure)  # Agg, chosen here: no backend is selected globally
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        bars = axes.barh(positions, values, color=BAR_COLOR)
        axes.set_yticks(positions, labels, **font)
        axes.invert_yaxis()  # first option on top
        axes.set_xlim(0, max([*values, 1]) * 1.15)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        labels, values = _number_bars(question, counts)
        figure = Figure(figsize=(7.5, 4.2), dpi=110)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        colors = [_bar_color(question, label) for label in labels]
        bars = axes.bar(range(len(labels)), values, color=colors)
        slanted = len(labels) > 12 or any("–" in label for label in labels)
        axes.set_xticks(
            range(len(labels)),
            labels,
            rotation=45 if slanted else 0,
            ha="right" if slanted else "center",
            rotation_mode="anchor",
            **font,
        )
        axes.set_ylim(0, max([*values, 1]) * 1.15)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.bar_label(bars, padding=2, **font)
    axes.spines[["top", "right"]].set_visible(False)
    if title:
        text = textwrap.fill(
            " ".join(question.text.get(locale).split()), 40, max_lines=3, placeholder="…"
        )
        axes.set_title(text, loc="left", fontsize=11, **font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _choice_bars(
    question: Question,
    counts: Mapping[Any, int],
    locale: str | None,
    gettext: Callable[[str], str] | None,
) -> tuple[list[str], list[int]]:
    labels = [option.text.get(locale) for option in question.options]
    values = [int(counts.get(option.key, 0)) for option in question.options]
    if question.other or counts.get(OTHER):
        other = (
            gettext("Other") if gettext else OTHER_LABELS.get(locale or "zh", OTHER_LABELS["en"])
        )
        labels.append(other)
        values.append(int(counts.get(OTHER, 0)))
    known = {*question.option_keys(), OTHER}
    for key in sorted(str(k) for k in counts if k not in known):
        labels.append(key)
        values.append(int(counts[key]))
    return [textwrap.fill(label, LABEL_WIDTH, max_lines=3) for label in labels], values


def _number_bars(question: Question, counts: Mapping[Any, int]) -> tuple[list[str], list[int]]:
    values = {float(k): int(v) for k, v in counts.items()}
    if question.type in (QuestionType.SCALE, QuestionType.NPS):
        low = int(question.min if question.min is not None else min(values, default=0))
        high = int(question.max if question.max is not None else max(values, default=0))
        points = range(low, high + 1)
        return [str(p) for p in points], [values.get(float(p), 0) for p in points]
    if len(values) <= MAX_BARS:
        ordered = sorted(values)
        return [_short(v) for v in ordered], [values[v] for v in ordered]
    return _histogram(values, integer=question.integer or all(v.is_integer() for v in values))


def _histogram(values: Mapping[float, int], *, integer: bool) -> tuple[list[str], list[int]]:
    """Many distinct values in at most HISTOGRAM_BINS ranges (whole-number ones for integers)."""
    low, high = min(values), max(values)
    if integer:
        width = max(math.ceil((high - low + 1) / HISTOGRAM_BINS), 1)
        starts = list(range(int(low), int(high) + 1, width))
        totals = [0] * len(starts)
        for value, count in values.items():
            totals[int((value - low) // width)] += count
        return [f"{_short(a)}–{_short(a + width - 1)}" for a in starts], totals
    step = (high - low) / HISTOGRAM_BINS
    edges = [low + i * step for i in range(HISTOGRAM_BINS + 1)]
    totals = [0] * HISTOGRAM_BINS
    for value, count in values.items():
        totals[min(int((value - low) / step), HISTOGRAM_BINS - 1)] += count
    return [f"{_short(a)}–{_short(b)}" for a, b in itertools.pairwise(edges)], totals


def _short(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _bar_color(question: Question, label: str) -> str:
    if question.type is not QuestionType.NPS:
        return BAR_COLOR
    value = int(label)
    return "#2e9e5b" if value >= 9 else "#c9c9c9" if value >= 7 else "#d8553b"
