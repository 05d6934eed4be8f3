"""Telegram's HTML parse mode as the sandbox checks it and hands it to the page."""

from __future__ import annotations

import pytest

from sandbox.telegram_html import TelegramHtmlError, formatted, parse_html, plain_text


def test_telegram_tags_become_canonical_nodes_and_entities_are_decoded() -> None:
    nodes = parse_html(
        '<b>Bold</b> <strong>s</strong> <em>i</em> <a href="https://t.me/x?start=p1">link</a> '
        '<span class="tg-spoiler">secret</span> &lt;3 &amp; <code>x</code>'
    )
    assert nodes == [
        {"tag": "b", "children": ["Bold"]}, " ",
        {"tag": "b", "children": ["s"]}, " ",
        {"tag": "i", "children": ["i"]}, " ",
        {"tag": "a", "children": ["link"], "href": "https://t.me/x?start=p1"}, " ",
        {"tag": "tg-spoiler", "children": ["secret"]}, " <3 & ",
        {"tag": "code", "children": ["x"]},
    ]  # fmt: skip


def test_nested_blockquote_and_pre_keep_their_text() -> None:
    nodes = parse_html("<blockquote>quote <i>it</i></blockquote><pre>a\n  b</pre>")
    assert plain_text(nodes) == "quote ita\n  b"


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "stray </b>",
        "<br/>",
        '<span class="x">not a spoiler</span>',
        "<!-- comment -->",
    ],
)
def test_what_telegram_refuses_is_refused(html: str) -> None:
    with pytest.raises(TelegramHtmlError, match="can't parse entities"):
        parse_html(html)


def test_plain_mode_keeps_markup_as_text() -> None:
    assert formatted("<script>x</script>", None) == ["<script>x</script>"]


def test_limits_count_what_the_reader_sees() -> None:
    assert formatted("<b>" + "字" * 4096 + "</b>", "HTML")
    with pytest.raises(TelegramHtmlError, match="too long"):
        formatted("字" * 4097, "HTML")
    with pytest.raises(TelegramHtmlError, match="caption is too long"):
        formatted("x" * 1025, "HTML", limit=1024)
    with pytest.raises(TelegramHtmlError, match="empty"):
        formatted("<b></b>", "HTML")


def test_a_raw_less_than_is_refused_but_escaped_ones_and_numeric_entities_pass() -> None:
    with pytest.raises(TelegramHtmlError, match="Unsupported start tag"):
        parse_html("score <5")
    assert parse_html("score &lt;5 &#20013; &#x6587; &quot;q&quot; &nbsp;") == [
        'score <5 中 文 "q" &nbsp;'
    ]
