"""Worker-side parsing of untrusted kernel messages, and the seccomp program (no sandbox)."""

from __future__ import annotations

import base64
import struct

import pytest

from mlrange.sandbox.artifacts import ARTIFACT_MIME, ArtifactReceiver, collector_code
from mlrange.sandbox.outputs import OutputCollector, OutputLimitExceededError
from mlrange.sandbox.results import ArtifactSpec
from mlrange.sandbox.seccomp import seccomp_filter


def chunk(name: str, seq: int, data: bytes, *, final: bool) -> dict:
    payload = {"name": name, "seq": seq, "final": final, "data": base64.b64encode(data).decode()}
    return {"data": {ARTIFACT_MIME: payload}}


def test_receiver_reassembles_chunks_in_order() -> None:
    receiver = ArtifactReceiver([ArtifactSpec("a.npy", 10)])

    receiver.add(chunk("a.npy", 0, b"12345", final=False))
    receiver.add(chunk("a.npy", 1, b"678", final=True))

    assert receiver.artifacts == {"a.npy": b"12345678"}


def test_receiver_refuses_out_of_order_chunks() -> None:
    receiver = ArtifactReceiver([ArtifactSpec("a.npy", 10)])

    receiver.add(chunk("a.npy", 1, b"678", final=True))

    assert receiver.artifacts == {}
    assert receiver.errors == {"a.npy": "invalid transfer"}


def test_receiver_rechecks_sizes_the_kernel_claims() -> None:
    receiver = ArtifactReceiver([ArtifactSpec("a.npy", 4)])

    receiver.add(chunk("a.npy", 0, b"12345", final=True))

    assert "a.npy" not in receiver.artifacts
    assert "too large" in receiver.errors["a.npy"]


def test_receiver_ignores_unrequested_names_and_flags_incomplete_transfers() -> None:
    receiver = ArtifactReceiver([ArtifactSpec("a.npy", 10)])

    receiver.add(chunk("../../etc/passwd", 0, b"x", final=True))
    receiver.add(chunk("a.npy", 0, b"1", final=False))
    receiver.finish()

    assert receiver.artifacts == {}
    assert receiver.errors == {"a.npy": "transfer incomplete"}


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".", "..", "x" * 65, "a b"])
def test_artifact_spec_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid artifact name"):
        ArtifactSpec(name, 10)


def test_collector_code_embeds_names_as_literals() -> None:
    code = collector_code([ArtifactSpec("a.npy", 10)], workdir="/home/learner", chunk_bytes=1024)

    compile(code, "<collector>", "exec")
    assert '[["a.npy", 10]]' in code


def test_output_collector_merges_streams_and_strips_ansi() -> None:
    collector = OutputCollector(limit=10_000)

    collector.add("stream", {"name": "stdout", "text": "a"})
    collector.add("stream", {"name": "stdout", "text": "b"})
    collector.add("error", {"ename": "E", "evalue": "v", "traceback": ["\x1b[31mred\x1b[0m"]})
    collector.add("display_data", {"data": {"text/html": "<script>", "text/plain": "p"}})

    assert collector.outputs == [
        {"type": "stream", "name": "stdout", "text": "ab", "cell": 0},
        {"type": "error", "ename": "E", "evalue": "v", "traceback": ["red"], "cell": 0},
        {"type": "display", "data": {"text/plain": "p"}, "cell": 0},
    ]


def test_output_collector_tags_each_output_with_its_cell_and_never_merges_across_cells() -> None:
    collector = OutputCollector(limit=10_000)

    collector.add("stream", {"name": "stdout", "text": "a"})
    collector.start_cell(1)
    collector.add("stream", {"name": "stdout", "text": "b"})
    collector.add("display_data", {"data": {"image/png": "iVBORw0KGgo="}})

    assert collector.outputs == [
        {"type": "stream", "name": "stdout", "text": "a", "cell": 0},
        {"type": "stream", "name": "stdout", "text": "b", "cell": 1},
        {"type": "display", "data": {"image/png": "iVBORw0KGgo="}, "cell": 1},
    ]


def test_output_collector_truncates_at_the_limit() -> None:
    collector = OutputCollector(limit=1000)

    with pytest.raises(OutputLimitExceededError):
        collector.add("stream", {"name": "stdout", "text": "x" * 5000})

    assert 0 < len(collector.outputs[0]["text"]) <= 1000


def test_seccomp_filter_is_a_whole_sock_filter_array_ending_in_returns() -> None:
    program = seccomp_filter()
    if program is None:
        pytest.skip("seccomp filter is described for x86_64 only")

    instructions = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]

    assert len(program) % 8 == 0
    assert instructions[0] == (0x20, 0, 0, 4)  # load the architecture first
    assert instructions[-1][0] == 0x06  # ends in a return
