"""One JSON object per log line (``LOG_FORMAT=json``), for log pipelines that parse fields.

Every record carries ``time``, ``level``, ``logger`` and ``message``; whatever a call passes in
``extra`` (``submission_id`` where the labs services log a submission) becomes a field too.
"""

from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(process)d %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "process": "pid"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        super().__init__(*args, **kwargs)
