"""Messages under Telegram's size limit: one splitter for screens, results and digests."""

from __future__ import annotations

import html
import re

from common.text import pack_messages, split_text


def test_long_text_is_cut_at_line_ends_and_never_inside_an_entity() -> None:
    parts = split_text("a" * 10 + "\n" + "b" * 10, limit=15)
    assert parts == ["a" * 10, "b" * 10]
    [first, second] = split_text("x" * 12 + "&amp;", limit=15)
    assert first == "x" * 12 and second == "&amp;"


def test_an_empty_text_is_still_one_message() -> None:
    assert split_text("") == [""]


def test_a_letter_of_one_long_paragraph_loses_nothing() -> None:
    letter = html.escape("食堂的饭菜 & 价格<>" * 1000)  # 12,000 characters after escaping
    parts = split_text(f"<b>信件 #7</b>\n{letter}", limit=4096)
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0] == "<b>信件 #7</b>"
    assert "".join(parts[1:]) == letter
    assert all(not re.search(r"&[a-z#0-9]*$", part) for part in parts)


def test_blocks_share_messages_and_an_over_long_tagged_line_drops_only_its_tags() -> None:
    line = "<i>" + "&amp;" * 2000 + "</i>"  # one escaped line far over the limit
    parts = pack_messages(["<b>title</b>", "short", line], limit=100)
    assert parts[0] == "<b>title</b>\n\nshort"
    assert all(len(part) <= 100 for part in parts)
    assert all(not re.search(r"&[a-z]*$", part) for part in parts)
    assert "".join(parts[1:]) == "&amp;" * 2000  # the tags went, the text did not
