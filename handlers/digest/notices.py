"""The digest as an outbox notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from digest import notifications as templates
from handlers.digest.views import theme_keyboard
from handlers.renderers import Rendered


def _render_text(params: Mapping[str, Any]) -> Rendered:
    return str(params["text"]), theme_keyboard(int(params["digest_id"]), params.get("themes", []))


RENDERERS = {templates.DIGEST_TEXT: _render_text}
