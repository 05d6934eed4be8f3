"""Templates of digest messages (rendered in handlers/digest/). The text is rendered in the
recipient's language when queued, so the outbox sends what was stored."""

from __future__ import annotations

DIGEST_TEXT = "digest.text"  # text (HTML); digest_id, themes [[index, keyword]] on the last part
CAPTION = "text"  # PLAIN_TEXT of the outbox renderers: the chart's and the workbook's captions
