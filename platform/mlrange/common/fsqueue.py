"""The embedded Celery broker: kombu's filesystem transport, made safe for concurrent publishers."""

from __future__ import annotations

import logging
import os
import uuid
from functools import cached_property
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) holding `data`.

    Not fsynced: the rename that follows is what makes publishing atomic; fsync would only guard
    a message against power loss (4 ms per publish here), and the queue is a doorbell: after a
    power cut an empty file is quarantined and the database sweeper re-queues the submission."""
    with path.open("xb") as f:
        f.write(data)


class Channel(filesystem.Channel):
    """kombu's filesystem channel without its partial-read race (kombu issue 1551).

    Invariants:
    - A message file appears in the in-folder only whole: it is written under a temporary name in
      the staging folder (same filesystem, never listed by consumers), then renamed in.
    - A consumer claims a file by renaming it out of the in-folder, so one file is delivered once.
    - A claimed file that is not a kombu message (empty, truncated, not JSON, wrong shape) is moved
      to the rejected folder and logged with its name; it is never raised into Celery, whose
      worker stops on any error from the broker that is not a connection error.
    """

    @cached_property
    def staging_folder(self) -> Path:
        """Publishers' half-written files and consumers' claimed ones; nothing here is delivered."""
        default = Path(self.data_folder_out) / ".staging"
        folder = Path(self.transport_options.get("staging_folder") or default)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @cached_property
    def rejected_folder(self) -> Path:
        """Quarantine for files found in the in-folder that are not messages."""
        default = Path(self.data_folder_in) / ".rejected"
        folder = Path(self.transport_options.get("rejected_folder") or default)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @cached_property
    def _unclaimable(self) -> set[str]:
        return set()

    # kombu's stub of filesystem.Channel._put renames AbstractChannel's `message`; this follows it.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        """Publish atomically: a consumer sees the whole file or none of it."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staged = self.staging_folder / f"{name}.part"
        try:
            _write_new(staged, str_to_bytes(dumps(payload)))
            os.rename(staged, Path(self.data_folder_out) / name)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise ChannelError(
                f"Cannot add message {name!r} to {self.data_folder_out!r} (the staging folder "
                f"{str(self.staging_folder)!r} must be on the same filesystem): {exc}"
            ) from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        """Claim and return the oldest message of `queue`; quarantine what is not one."""
        wanted = f"{queue}.msg"
        claim_folder = Path(self.processed_folder) if self.store_processed else self.staging_folder
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = claim_folder / name
            try:
                os.rename(Path(self.data_folder_in) / name, claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                if name not in self._unclaimable:
                    self._unclaimable.add(name)
                    logger.error("Cannot claim queue message %s into %s: %s", name, claim_folder, exc)
                continue
            payload = self._read_claimed(claimed)
            if payload is not None:
                return payload
        raise Empty()

    def _read_claimed(self, claimed: Path) -> dict[str, Any] | None:
        try:
            raw = claimed.read_bytes()
        except OSError as exc:
            self._quarantine(claimed, f"unreadable: {exc}")
            return None
        try:
            payload = loads(bytes_to_str(raw))
        except (ValueError, TypeError, KeyError) as exc:  # JSONDecodeError, UnicodeDecodeError: ValueError
            self._quarantine(claimed, f"not JSON ({len(raw)} bytes): {exc}")
            return None
        problem = self._shape_problem(payload)
        if problem:
            self._quarantine(claimed, problem)
            return None
        if not self.store_processed:
            claimed.unlink(missing_ok=True)
        return payload  # type: ignore[no-any-return]  # checked to be a dict by _shape_problem

    def _shape_problem(self, payload: object) -> str | None:
        """Why `payload` cannot become a kombu message, or None when it can."""
        if not isinstance(payload, dict):
            return f"a JSON {type(payload).__name__}, not an object"
        properties = payload.get("properties")
        if not isinstance(properties, dict) or "delivery_tag" not in properties:
            return "no properties.delivery_tag"
        delivery_info = properties.get("delivery_info")
        if not isinstance(delivery_info, dict) or not {"exchange", "routing_key"} <= delivery_info.keys():
            return "no properties.delivery_info with exchange and routing_key"  # needed to requeue it
        try:
            self.Message(payload, channel=self)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return f"not a kombu message: {exc!r}"
        return None

    def _quarantine(self, claimed: Path, reason: str) -> None:
        target = self.rejected_folder / claimed.name
        try:
            os.replace(claimed, target)
        except OSError as exc:
            claimed.unlink(missing_ok=True)
            logger.error(
                "Dropped malformed queue message %s (%s), not quarantined: %s", claimed.name, reason, exc
            )
            return
        logger.error("Quarantined malformed queue message %s in %s: %s", claimed.name, target.parent, reason)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        """Create an exchange's binding table whole, so that no reader ever parses an empty one.

        kombu creates the table file, then locks and writes it; a publisher reading it in between
        gets an empty file and a JSONDecodeError. A table that exists is updated under kombu's lock.
        """
        table_file = self._table_file(exchange)
        if not table_file.exists():
            self.control_folder.mkdir(parents=True, exist_ok=True)
            row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
            staged = table_file.with_name(f".{table_file.name}.{uuid.uuid4().hex}.part")
            try:
                _write_new(staged, str_to_bytes(dumps([row])))
                os.link(staged, table_file)
            except FileExistsError:
                pass  # created meanwhile by another process: add this binding to it below
            except OSError as exc:
                raise ChannelError(f"Cannot create {table_file}: {exc}") from exc
            else:
                return
            finally:
                staged.unlink(missing_ok=True)
        super()._queue_bind(exchange, routing_key, pattern, queue)

    def _table_file(self, exchange: str) -> Path:
        validated = getattr(super(), "_exchange_file", None)  # kombu >= 5.7 validates the name
        if validated is not None:
            return Path(validated(exchange))
        return self.control_folder / f"{exchange}.exchange"


class Transport(filesystem.Transport):
    """Celery's `broker_transport` for `filesystem://` URLs (see settings)."""

    Channel = Channel
