"""Turns an outbox row (template + params) into text and buttons, in the recipient's language.

Handlers register the renderers of their own templates, next to the keyboards they build.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup

Rendered = tuple[str, InlineKeyboardMarkup | None]
Renderer = Callable[[Mapping[str, Any]], Rendered]

# Already-rendered text (e.g. built by a job in the recipient's language): params {"text": ...}
PLAIN_TEXT = "text"


class UnknownTemplate(LookupError):
    pass


class Renderers:
    def __init__(self) -> None:
        self._renderers: dict[str, Renderer] = {PLAIN_TEXT: lambda p: (str(p["text"]), None)}

    def register(self, renderers: Mapping[str, Renderer]) -> None:
        for template, renderer in renderers.items():
            if template in self._renderers:
                raise ValueError(f"template {template!r} registered twice")
            self._renderers[template] = renderer

    def render(self, template: str, params: Mapping[str, Any]) -> Rendered:
        try:
            renderer = self._renderers[template]
        except KeyError:
            raise UnknownTemplate(template) from None
        return renderer(params)

    def __contains__(self, template: str) -> bool:
        return template in self._renderers
