"""Turns kernel IOPub messages into capped, JSON-safe outputs."""

from __future__ import annotations

import re
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_MESSAGE_OVERHEAD = 100  # counted per message, so a flood of empty messages hits the cap too
KEPT_MIME_TYPES = ("text/plain", "image/png", "image/jpeg")
"""Display formats kept; HTML, JavaScript and SVG are dropped (they would run in a browser)."""


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


class OutputLimitExceededError(Exception):
    """The outputs went past the cap: the caller kills the kernel."""


class OutputCollector:
    """Accumulates outputs in order, merging consecutive stream chunks of one cell, within
    ``limit`` bytes. Each output carries ``cell``: the index of the cell that produced it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.cell = 0
        self.outputs: list[dict[str, Any]] = []

    def start_cell(self, index: int) -> None:
        """What arrives from now on belongs to cell ``index`` (0-based, in execution order)."""
        self.cell = index

    def add(self, msg_type: str, content: dict[str, Any]) -> None:
        """Record one IOPub message; raise OutputLimitExceededError past the cap."""
        if msg_type == "stream":
            name = "stderr" if content.get("name") == "stderr" else "stdout"
            self._add_stream(name, str(content.get("text", "")))
        elif msg_type in {"display_data", "execute_result"}:
            raw = content.get("data")
            data = {
                mime: value
                for mime, value in (raw.items() if isinstance(raw, dict) else ())
                if mime in KEPT_MIME_TYPES and isinstance(value, str)
            }
            self._charge(sum(len(value) for value in data.values()))
            if data:
                self.outputs.append({"type": "display", "data": data, "cell": self.cell})
        elif msg_type == "error":
            traceback = content.get("traceback")
            lines = [strip_ansi(str(line)) for line in traceback] if isinstance(traceback, list) else []
            ename = strip_ansi(str(content.get("ename", "")))
            evalue = strip_ansi(str(content.get("evalue", "")))
            self._charge(len(ename) + len(evalue) + sum(map(len, lines)))
            self.outputs.append(
                {"type": "error", "ename": ename, "evalue": evalue, "traceback": lines, "cell": self.cell}
            )
        else:
            self._charge(0)

    def has_error(self) -> bool:
        return any(output["type"] == "error" for output in self.outputs)

    def _add_stream(self, name: str, text: str) -> None:
        room = self.limit - self.used - _MESSAGE_OVERHEAD
        over = len(text.encode()) > room
        if over:
            text = text.encode()[: max(room, 0)].decode(errors="ignore")
        last = self.outputs[-1] if self.outputs else None
        if last is not None and (last["type"], last.get("name"), last["cell"]) == ("stream", name, self.cell):
            last["text"] += text
        elif text:
            self.outputs.append({"type": "stream", "name": name, "text": text, "cell": self.cell})
        if over:
            self.used = self.limit
            raise OutputLimitExceededError
        self._charge(len(text.encode()))

    def _charge(self, size: int) -> None:
        self.used += size + _MESSAGE_OVERHEAD
        if self.used > self.limit:
            raise OutputLimitExceededError
