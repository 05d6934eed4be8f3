"""Start `unionvoice` with a fault planted, to show the soak catches it:

    python -m bench.soak.plant skip-processed-update --config c.toml run

The product has no switch for this: the fault is monkeypatched in here, before `bot.cli` runs.
"""

from __future__ import annotations

import sys
from typing import Any

PLANTS = ("none", "skip-processed-update")


def plant(name: str) -> None:
    if name == "none":
        return
    if name == "skip-processed-update":
        # Every update looks new and none is marked processed: Telegram's redeliveries (and
        # the duplicates a reverse proxy or a timeout produce) apply their effects again.
        from storage import uow
        from storage.repos.updates import ProcessedUpdateRepository

        async def never_seen(self: ProcessedUpdateRepository, update_id: int) -> bool:
            return False

        original = uow.Repositories.__init__

        def without_marker(self: uow.Repositories, session: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("update_id", None)
            if args:
                args = (None, *args[1:])
            original(self, session, *args, **kwargs)

        ProcessedUpdateRepository.seen = never_seen  # type: ignore[method-assign]
        uow.Repositories.__init__ = without_marker  # type: ignore[method-assign]
        return
    raise SystemExit(f"unknown fault {name!r}; known: {', '.join(PLANTS)}")


def main() -> int:
    name, *argv = sys.argv[1:]
    plant(name)
    from bot.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
