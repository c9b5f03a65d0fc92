"""The embedded queue's transport: atomic publishes, one delivery per file, a quarantine for junk."""

import base64
import json
import logging
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.simple import SimpleQueue
from kombu.transport.virtual import BrokerState

from mlrange.common import fsqueue

QUEUE = "jobs"


def _connection(queue_dir: Path, **options: object) -> Connection:
    for sub in ("in", "processed", "control", "staging", "rejected"):
        (queue_dir / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport=fsqueue.Transport,
        transport_options={
            "data_folder_in": str(queue_dir / "in"),
            "data_folder_out": str(queue_dir / "in"),
            "processed_folder": str(queue_dir / "processed"),
            "control_folder": str(queue_dir / "control"),
            "staging_folder": str(queue_dir / "staging"),
            "rejected_folder": str(queue_dir / "rejected"),
            **options,
        },
    )


def _messages(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".msg"))


def _take(queue: SimpleQueue) -> object:
    message = queue.get(block=False)
    message.ack()
    return message.payload


@pytest.fixture
def queue_dir(tmp_path: Path, monkeypatch) -> Path:
    # kombu remembers bindings per process, not per folder: each test starts from none.
    monkeypatch.setattr(fsqueue.Transport, "global_state", BrokerState())
    return tmp_path / "queue"


def test_publish_writes_nothing_into_the_in_folder_before_the_message_is_whole(queue_dir, monkeypatch):
    real_write = fsqueue._write_new
    seen_while_writing: list[list[str]] = []

    def write_spy(path, data) -> None:  # the file is whole in staging, not yet renamed in
        real_write(path, data)
        seen_while_writing.append(_messages(queue_dir / "in"))

    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        with monkeypatch.context() as patch:
            patch.setattr(fsqueue, "_write_new", write_spy)
            queue.put({"n": 1, "pad": "x" * 100_000})
        [name] = _messages(queue_dir / "in")
        assert seen_while_writing == [[]]
        assert json.loads((queue_dir / "in" / name).read_bytes())["properties"]["delivery_tag"]
        assert _take(queue) == {"n": 1, "pad": "x" * 100_000}
        assert os.listdir(queue_dir / "staging") == []


def test_publish_interrupted_before_rename_leaves_nothing_to_consume(queue_dir, monkeypatch):
    class Interrupted(BaseException):
        """A process killed between writing the message and renaming it in."""

    def interrupted_rename(src: object, dst: object) -> None:
        raise Interrupted

    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        with monkeypatch.context() as patch:
            patch.setattr(fsqueue.os, "rename", interrupted_rename)
            with pytest.raises(Interrupted):
                queue.put({"n": 1})
        assert _messages(queue_dir / "in") == []
        assert len(os.listdir(queue_dir / "staging")) == 1  # the half-published file, never listed
        with pytest.raises(SimpleQueue.Empty):
            queue.get(block=False)


def test_publish_failure_is_a_channel_error_and_cleans_its_staging_file(queue_dir, monkeypatch):
    def failing_rename(src: object, dst: object) -> None:
        raise OSError(18, "Invalid cross-device link")

    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        monkeypatch.setattr(fsqueue.os, "rename", failing_rename)
        with pytest.raises(ChannelError, match="same filesystem"):
            queue.put({"n": 1})
    assert _messages(queue_dir / "in") == []
    assert os.listdir(queue_dir / "staging") == []


def _publish(queue_dir: Path, bodies: list[dict[str, object]]) -> None:
    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for body in bodies:
            queue.put(body)


def test_a_consumer_racing_publisher_processes_only_ever_gets_whole_messages(queue_dir):
    # Processes, not threads: the GIL hides the race that kombu's stock transport loses here.
    sent = [{"n": i, "pad": "x" * 10_000} for i in range(160)]
    received: list[object] = []
    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        fork = multiprocessing.get_context("fork")
        publishers = [fork.Process(target=_publish, args=(queue_dir, sent[i::4])) for i in range(4)]
        for process in publishers:
            process.start()
        deadline = time.monotonic() + 60
        while len(received) < len(sent) and time.monotonic() < deadline:
            try:
                received.append(_take(queue))
            except SimpleQueue.Empty:
                continue
        for process in publishers:
            process.join(timeout=10)
    assert [process.exitcode for process in publishers] == [0, 0, 0, 0]
    assert sorted(received, key=lambda body: body["n"]) == sent  # type: ignore[index]
    assert os.listdir(queue_dir / "rejected") == []


MALFORMED = {
    "0_empty.jobs.msg": b"",
    "1_truncated.jobs.msg": b'{"body": "eyJ", "properties": {"deliv',
    "2_not-json.jobs.msg": b"\xff\xfe not json",
    "3_a-list.jobs.msg": b"[1, 2, 3]",
    "4_no-properties.jobs.msg": b'{"body": "x"}',
    "5_no-routing.jobs.msg": json.dumps({"body": "", "properties": {"delivery_tag": "t"}}).encode(),
    "6_unknown-encoding.jobs.msg": json.dumps(
        {
            "body": "eA==",
            "properties": {
                "delivery_tag": "t",
                "body_encoding": "rot26",
                "delivery_info": {"exchange": QUEUE, "routing_key": QUEUE},
            },
        }
    ).encode(),
}


def test_malformed_files_are_quarantined_and_logged_then_the_next_message_is_delivered(queue_dir, caplog):
    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for name, content in MALFORMED.items():
            (queue_dir / "in" / name).write_bytes(content)
        queue.put({"n": "valid"})
        with caplog.at_level(logging.WARNING, logger="mlrange.common.fsqueue"):
            assert _take(queue) == {"n": "valid"}
        with pytest.raises(SimpleQueue.Empty):
            queue.get(block=False)
    assert sorted(os.listdir(queue_dir / "rejected")) == sorted(MALFORMED)
    for name, content in MALFORMED.items():
        assert (queue_dir / "rejected" / name).read_bytes() == content
        assert any(name in record.getMessage() for record in caplog.records), name
    assert _messages(queue_dir / "in") == []


def test_a_valid_envelope_with_a_base64_body_is_delivered(queue_dir):
    body = base64.b64encode(json.dumps({"n": 2}).encode()).decode()
    with _connection(queue_dir) as conn:
        queue = conn.SimpleQueue(QUEUE)
        (queue_dir / "in" / f"0_hand-made.{QUEUE}.msg").write_text(
            json.dumps(
                {
                    "body": body,
                    "content-type": "application/json",
                    "content-encoding": "utf-8",
                    "headers": {},
                    "properties": {
                        "delivery_tag": "t1",
                        "body_encoding": "base64",
                        "delivery_info": {"exchange": QUEUE, "routing_key": QUEUE},
                    },
                }
            )
        )
        assert _take(queue) == {"n": 2}
    assert os.listdir(queue_dir / "rejected") == []


def test_store_processed_keeps_a_copy_of_each_delivered_message(queue_dir):
    with _connection(queue_dir, store_processed=True) as conn:
        queue = conn.SimpleQueue(QUEUE)
        queue.put({"n": 1})
        assert _take(queue) == {"n": 1}
    [name] = _messages(queue_dir / "processed")
    assert name.endswith(f".{QUEUE}.msg")


def test_exchange_table_appears_whole_and_keeps_every_binding(queue_dir, monkeypatch):
    table = queue_dir / "control" / f"{QUEUE}.exchange"
    real_write = fsqueue._write_new
    table_seen_while_writing: list[bool] = []

    def write_spy(path, data) -> None:
        real_write(path, data)
        table_seen_while_writing.append(table.exists())

    with _connection(queue_dir) as first, _connection(queue_dir) as second:
        first.default_channel.exchange_declare(exchange=QUEUE, type="direct")
        with monkeypatch.context() as patch:
            patch.setattr(fsqueue, "_write_new", write_spy)
            first.default_channel.queue_bind("a", exchange=QUEUE, routing_key="a")
        second.default_channel.queue_bind("b", exchange=QUEUE, routing_key="b")
    assert table_seen_while_writing == [False]
    assert sorted(row[2] for row in json.loads(table.read_text())) == ["a", "b"]
    assert [p.name for p in table.parent.iterdir()] == [table.name]
