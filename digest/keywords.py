"""Chinese keywords with jieba. jieba is imported, and its dictionary loaded (~1 s), the first
time a digest needs it, once per process — never at start-up or on a hot path."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

MIN_LENGTH = 2
# Words that say nothing about a theme in members' feedback (function words, politeness,
# feedback vocabulary itself). Single characters are dropped anyway.
_STOPWORD_TEXT = """
    我们 你们 他们 她们 它们 自己 大家 这个 那个 这些 那些 这样 那样 这种 那种 一些 一个 一下
    没有 可以 希望 建议 问题 觉得 感觉 非常 比较 能够 进行 已经 还是 就是 因为 所以 但是 如果
    然后 需要 应该 目前 现在 以及 或者 而且 并且 还有 其他 其它 方面 情况 有关 相关 关于 对于
    什么 怎么 为什么 这么 那么 时候 可能 一定 不是 不要 不能 不会 有些 很多 太多 更加 特别
    谢谢 感谢 请问 老师 同志 学校 工会 学院 部门 工作 提出 提案 意见 建议书 问卷 加强 改进 提高
    the and for with that this are was were have has not but you your our they them from
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"^[\w\u4e00-\u9fff]+$")


@functools.cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def keywords(text: str) -> set[str]:
    """The distinct keywords of one text (a text counts once per keyword)."""
    found = set()
    for word in _jieba().lcut(text):
        word = word.strip().lower()
        if (
            len(word) >= MIN_LENGTH
            and word not in STOPWORDS
            and _WORD.match(word)
            and not word.isdigit()
        ):
            found.add(word)
    return found


def keywords_of_many(texts: Iterable[str]) -> list[set[str]]:
    """keywords() of each text; run in a worker thread by callers (CPU-bound)."""
    return [keywords(text) for text in texts]
