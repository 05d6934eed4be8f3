"""Ready-made union surveys (shipped as TOML in surveys/templates/) and the template's example."""

from __future__ import annotations

import tomllib
from importlib import resources
from zoneinfo import ZoneInfo

from surveys.definition import SurveyDefinition, parse_definition
from surveys.tomlwriter import write_definition

# In the order officers see them: satisfaction, needs, canteen, events, congress topics.
TEMPLATES = ("satisfaction", "needs", "canteen", "events", "congress")
EXAMPLE = "example"


def template_source(name: str) -> str:
    if name not in (*TEMPLATES, EXAMPLE):
        raise KeyError(name)
    return (resources.files("surveys") / "templates" / f"{name}.toml").read_text(encoding="utf-8")


def template_definition(name: str, tz: ZoneInfo | None = None) -> SurveyDefinition:
    return parse_definition(template_source(name), f"{name}.toml", tz)


def with_id(source: str, slug: str) -> str:
    """The same survey under another id (a template becomes a draft of its own)."""
    raw = tomllib.loads(source)
    raw["id"] = slug
    return write_definition(raw)[0]
