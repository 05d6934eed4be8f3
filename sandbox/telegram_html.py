"""Telegram's HTML parse mode: checked like Telegram does, turned into a tree the page renders.

The page never sees HTML: it gets nested `{"tag", "children", "href"?}` nodes and plain strings,
built here from a whitelist of Telegram's tags, and creates DOM nodes from them with
`textContent` only. So whatever a message contains, nothing but these tags reaches the page.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

Node = str | dict[str, Any]

# Telegram's tags (https://core.telegram.org/bots/api#html-style), mapped to one name each.
_CANONICAL = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u",
    "s": "s", "strike": "s", "del": "s", "code": "code", "pre": "pre", "a": "a",
    "tg-spoiler": "tg-spoiler", "blockquote": "blockquote", "tg-emoji": "tg-emoji",
    "span": "span",
}  # fmt: skip
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024


class TelegramHtmlError(ValueError):
    """What Telegram would answer with 400 "Bad Request: can't parse entities: …"."""


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        # Entities by hand: a raw "<" in the text must be told apart from an escaped one.
        super().__init__(convert_charrefs=False)
        self.root: list[Node] = []
        self._stack: list[tuple[str, list[Node]]] = [("", self.root)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        canonical = _CANONICAL.get(tag)
        if canonical is None:
            raise TelegramHtmlError(f'Unsupported start tag "{tag}"')
        values = dict(attrs)
        node: dict[str, Any] = {"tag": canonical, "children": []}
        if canonical == "span":
            if values.get("class") != "tg-spoiler":
                raise TelegramHtmlError('Tag "span" must have class "tg-spoiler"')
            node["tag"] = "tg-spoiler"
        elif canonical == "a":
            node["href"] = values.get("href") or ""
        self._stack[-1][1].append(node)
        self._stack.append((tag, node["children"]))

    def handle_startendtag(
        self,
        tag: str,
        attrs: list[tuple[str, str | None]],  # noqa: ARG002 (HTMLParser's)
    ) -> None:
        raise TelegramHtmlError(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        open_tag = self._stack[-1][0]
        if len(self._stack) == 1 or open_tag != tag:
            raise TelegramHtmlError(
                f'Can\'t find end tag corresponding to start tag "{open_tag or tag}"'
            )
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise TelegramHtmlError(f'Unsupported start tag "{data.split("<", 1)[1][:10]}"')
        self._text(data)

    def handle_entityref(self, name: str) -> None:
        # Telegram knows these four by name; others stay as they were typed.
        self._text(_NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            self._text(chr(code))
        except (ValueError, OverflowError):
            raise TelegramHtmlError(f'Invalid character reference "&#{name};"') from None

    def _text(self, data: str) -> None:
        siblings = self._stack[-1][1]
        if siblings and isinstance(siblings[-1], str):
            siblings[-1] += data
        else:
            siblings.append(data)

    def handle_comment(self, data: str) -> None:  # noqa: ARG002 (HTMLParser's signature)
        raise TelegramHtmlError('Unsupported start tag "!--"')

    def handle_decl(self, decl: str) -> None:  # noqa: ARG002 (HTMLParser's signature)
        raise TelegramHtmlError('Unsupported start tag "!"')

    def unknown_decl(self, data: str) -> None:  # noqa: ARG002 (HTMLParser's signature)
        raise TelegramHtmlError('Unsupported start tag "!["')

    def handle_pi(self, data: str) -> None:  # noqa: ARG002 (HTMLParser's signature)
        raise TelegramHtmlError('Unsupported start tag "?"')

    def finish(self) -> list[Node]:
        self.close()
        if len(self._stack) > 1:
            raise TelegramHtmlError(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
            )
        return self.root


def parse_html(text: str) -> list[Node]:
    """The node tree of an HTML-mode text, or TelegramHtmlError where Telegram would refuse."""
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        return builder.finish()
    except TelegramHtmlError as exc:
        raise TelegramHtmlError(f"can't parse entities: {exc}") from None


def plain_text(nodes: list[Node]) -> str:
    """What the reader sees: Telegram counts the limits on this, not on the markup."""
    return "".join(n if isinstance(n, str) else plain_text(n["children"]) for n in nodes)


def formatted(text: str, parse_mode: str | None, limit: int = TEXT_LIMIT) -> list[Node]:
    """A message text or caption as the page shows it, checked against Telegram's limits."""
    nodes: list[Node] = parse_html(text) if (parse_mode or "").upper() == "HTML" else [text]
    length = len(plain_text(nodes))
    if length == 0 and limit == TEXT_LIMIT:
        raise TelegramHtmlError("message text is empty")
    if length > limit:
        what = "message is too long" if limit == TEXT_LIMIT else "message caption is too long"
        raise TelegramHtmlError(what)
    return nodes
