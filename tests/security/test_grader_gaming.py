"""Graders that cannot be gamed: the attacks of issue 11 item 7, run for real.

Each submission below is graded by the lab's real grader in the real grader sandbox (one
sandbox run per lab, see tests/labs_content/harness.py), with the learner's functions in
_shared.callee's confined child process:

- *Erasing the evidence*: scanners and verifiers that load untrusted files (pickle,
  torch.load, np.load(allow_pickle=True)) in a forked child inside a fresh subfolder and
  delete it, in the main process and then delete what appeared, after a chdir deep below
  their scratch folder, or in a double-forked daemon. The payloads report to the grader's
  canary FIFO (_shared.canary), which none of that can take back: they must fail.
- *Leaking held-out inputs through feedback*: guards and scanners that raise a BaseException
  subclass, or an exception whose class name carries data, carrying zlib+base64 of what they
  were given; that print it; that forge replies on the child's pipe; that patch the child's
  json module. No report may contain a held-out input or its encoding, and each must equal
  the report of a plain builtin exception (learner-controlled text: nothing).
- *Relaying past a restart*: a daemon left by the first child hands what it saw to the next
  child's load error over UDP on loopback; the message must not be shown.
"""

import base64
import difflib
import json
import re
import shutil
import textwrap
import zlib
from pathlib import Path

import pytest
from django.test import override_settings

from mlrange.sandbox import run_grader
from tests.labs_content.harness import check, grade_batch_in_sandbox, passed_tiers, run_python
from tests.sandbox.support import REPO_ROOT, sandbox_config, short_run_dir

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

LABS = REPO_ROOT / "labs"
ATLAS = REPO_ROOT / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
SEED = 5
TIMINGS = ("scan_seconds", "guard_seconds")
SCANNER_TIERS = {"known-families", "held-out-families", "benign", "no-execution"}
MAX_LEARNER_BYTES = 200
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}")
HEX_RUN = re.compile(r"[0-9a-f]{16,}")


def _spec(slug: str):
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LABS / slug / "manifest.yaml", labs_dir=LABS, check_atlas=True)
    assert errors == []
    return lab


def _built(slug: str, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    spec = _spec(slug)
    assets = tmp_path_factory.mktemp(f"{slug}-assets")
    build_lab_assets(spec, assets_dir=assets)
    return spec, lab_asset_dirs(slug, assets)


def _grade(spec, dirs, sources: dict[str, str], params: dict) -> dict[str, dict]:
    jobs = [{"name": name, "source": name, "params": params} for name in sources]
    return grade_batch_in_sandbox(spec, dirs, {k: textwrap.dedent(v) for k, v in sources.items()}, jobs)


def _text(report: dict) -> str:
    """Everything a learner sees of a report, as the API would serialise it (both escapings)."""
    return json.dumps(report, ensure_ascii=False) + json.dumps(report)


def _without_timings(report: dict) -> dict:
    return {**report, "metrics": {k: v for k, v in report["metrics"].items() if k not in TIMINGS}}


def _learner_bytes(report: dict, control: dict) -> int:
    """Bytes of `report` that differ from the control's (timings aside): what the learner chose."""
    ours, theirs = (json.dumps(_without_timings(r), sort_keys=True) for r in (report, control))
    matcher = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
    return sum(j2 - j1 for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _assert_no_encoded_data(report: dict) -> None:
    text = _text(_without_timings(report))
    assert "Leak" not in text
    assert not BASE64_RUN.search(text), BASE64_RUN.search(text)
    assert not HEX_RUN.search(text), HEX_RUN.search(text)


# --- the attacks, as learner code ---------------------------------------------------------

BLOB = """
import base64, json, zlib

def _blob(*inputs):
    text = json.dumps([base64.b64encode(i).decode() if isinstance(i, bytes) else i for i in inputs])
    return base64.b64encode(zlib.compress(text.encode())).decode()
"""

# A forged reply on every writable pipe of the process: the child's reply channel.
FORGE = """
import fcntl, os, stat

def _forge(blob):
    line = json.dumps({"error": {"type": "Leak_" + blob[:60], "message": blob}}) + "\\n"
    for fd in range(3, 256):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_WRONLY:
                continue
        except OSError:
            continue
        os.write(fd, line.encode())
"""

# The scanner: the reference's verdicts, but every file is also loaded "to be sure".
UNSAFE_SCAN = (
    (LABS / "model-file-scanner" / "solutions" / "reference_allowlist.py")
    .read_text()
    .replace("def scan(", "def _static_scan(")
    + """
import io, os, pickle, shutil, sys, tempfile

import numpy as np
import torch

def _load(data, filename):
    \"\"\"Load the file the way its format invites; True when that went through.\"\"\"
    try:
        if data[:4] == b"PK\\x03\\x04" or filename.endswith((".pt", ".pth")):
            torch.load(io.BytesIO(data), weights_only=False)
        elif data[:6] == b"\\x93NUMPY":
            np.load(io.BytesIO(data), allow_pickle=True)
        else:
            pickle.loads(data)
    except BaseException:
        return False
    return True

def scan(data, filename):
    verdict = _static_scan(data, filename)
    _isolated(_load, data, filename)
    return verdict
"""
)

UNSAFE_VERIFY = """
import base64, io, json, os, shutil, sys, tempfile

import numpy as np
import torch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from safetensors.numpy import load as load_safetensors

def _trusted(model, signature, trusted_keys):
    try:
        env = json.loads(signature)
        raw = base64.b64decode(env["signature"], validate=True)
        if env.get("alg") != "ed25519" or len(raw) != 64:
            return False
        Ed25519PublicKey.from_public_bytes(trusted_keys[env["key_id"]]).verify(raw, model)
        return True
    except Exception:
        return False

def _clean_checkpoint(model):
    \"\"\"The torch.load fallback: accept only a dict of tensors.\"\"\"
    try:
        state = torch.load(io.BytesIO(model), weights_only=False)
    except BaseException:
        return False
    return isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())

def verify_and_load(model, signature, trusted_keys):
    if not _trusted(model, signature, trusted_keys):
        return None
    try:
        return {k: np.ascontiguousarray(v) for k, v in load_safetensors(model).items()}
    except Exception:
        pass
    _isolated(_clean_checkpoint, model)  # a plausible verdict: a pickle is rejected anyway
    return None
"""

# Four ways to run the loader and then destroy what its payloads wrote.
HIDE = {
    "fork_and_delete": """
def _isolated(load, *args):
    folder = tempfile.mkdtemp(dir=os.getcwd())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.chdir(folder)
        os.write(write_end, b"1" if load(*args) else b"0")
        os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1)
    os.close(read_end)
    os.waitpid(pid, 0)
    shutil.rmtree(folder, ignore_errors=True)
    return answer != b"0"
""",
    "main_then_delete": """
def _isolated(load, *args):
    before = set(os.listdir("."))
    verdict = load(*args)
    for name in set(os.listdir(".")) - before:
        shutil.rmtree(name) if os.path.isdir(name) else os.remove(name)
    return verdict
""",
    "chdir_deep": """
_DEEP = os.path.join(os.getcwd(), "a", "b", "c", "d")
os.makedirs(_DEEP)

def _isolated(load, *args):
    os.chdir(_DEEP)
    verdict = load(*args)
    for name in os.listdir("."):
        os.remove(name)
    return verdict
""",
    "double_forked_daemon": """
def _isolated(load, *args):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        os.close(read_end)
        folder = tempfile.mkdtemp()
        os.chdir(folder)
        os.write(write_end, b"1" if load(*args) else b"0")
        os.chdir("/")
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    answer = os.read(read_end, 1)
    os.close(read_end)
    return answer != b"0"
""",
}


# --- model-file-scanner --------------------------------------------------------------------

MFS_LEAKS = {
    "leak_base_exception": BLOB
    + """
class Leak(BaseException):
    pass

def scan(data, filename):
    raise Leak(_blob(filename, data))
""",
    "control_base_exception": "def scan(data, filename):\n    raise BaseException()\n",
    "leak_class_name": BLOB
    + """
def scan(data, filename):
    raise type("Leak_" + _blob(filename)[:200], (ValueError,), {})(_blob(filename, data))
""",
    "leak_prints": BLOB
    + """
import os, sys

def scan(data, filename):
    blob = _blob(filename, data)
    print(filename, blob)
    print(filename, blob, file=sys.stderr)
    os.write(1, blob.encode())
    os.write(2, blob.encode())
    raise ValueError(blob)
""",
    "control_value_error": "def scan(data, filename):\n    raise ValueError()\n",
    "forged_replies": BLOB
    + FORGE
    + """
def scan(data, filename):
    blob = _blob(filename, data)
    _forge(blob)
    raise ValueError(blob)
""",
    "load_message": "raise ValueError('A' * 1000)\n",
    "load_control": "raise ValueError()\n",
}


@pytest.fixture(scope="module")
def scanner(tmp_path_factory):
    spec, dirs = _built("model-file-scanner", tmp_path_factory)
    sources = {name: UNSAFE_SCAN + hide for name, hide in HIDE.items()}
    sources.update(MFS_LEAKS)
    # Last: an honest scanner in the same grader process, after the attackers' daemons ran.
    sources["reference"] = (LABS / "model-file-scanner" / "solutions" / "reference_allowlist.py").read_text()
    reports = _grade(spec, dirs, sources, {"variant": {}, "grader_seed": SEED})
    names = run_python(
        "import json, random, sys\n"
        f"sys.path.insert(0, {str(dirs.grader)!r})\n"
        "from corpus import build_corpus\n"
        f"corpus = build_corpus(random.Random('model-file-scanner:{SEED}'), lambda stem: ('/x', stem))\n"
        "print(json.dumps([f.name for f in corpus]))\n",
        cwd=tmp_path_factory.mktemp("mfs-names"),
    )
    return reports, json.loads(names.strip().splitlines()[-1])


@pytest.mark.parametrize("attack", sorted(HIDE))
def test_scanner_that_loads_and_erases_the_evidence_scores_nothing(scanner, attack):
    report = scanner[0][attack]
    # Its verdicts are the reference's, which scores 100: the canary alone takes it to 0.
    assert report["metrics"]["malicious_caught"] == report["metrics"]["malicious_total"]
    assert report["metrics"]["benign_flagged"] == 0
    assert report["score"] == 0
    assert passed_tiers(report, SCANNER_TIERS) == set()
    assert report["metrics"]["payloads_executed"] >= 5
    assert "ran inside your scanner" in check(report, "no-execution")["feedback"]


def test_honest_scanner_still_passes_after_the_attackers_ran(scanner):
    report = scanner[0]["reference"]
    assert report["score"] == 100
    assert report["metrics"]["payloads_executed"] == 0


@pytest.mark.parametrize(
    ("attack", "control"),
    [
        ("leak_base_exception", "control_base_exception"),
        ("leak_class_name", "control_value_error"),
        ("leak_prints", "control_value_error"),
    ],
)
def test_scanner_exceptions_and_prints_carry_nothing_to_feedback(scanner, attack, control):
    reports, names = scanner
    report = reports[attack]
    text = _text(report)
    assert not [name for name in names if name in text or name.rsplit(".", 1)[0] in text]
    _assert_no_encoded_data(report)
    assert "raised" in check(report, "known-families")["feedback"]
    assert _without_timings(report) == _without_timings(reports[control])
    assert _learner_bytes(report, reports[control]) == 0


def test_forged_replies_on_the_childs_pipe_carry_nothing_to_feedback(scanner):
    reports, names = scanner
    report = reports["forged_replies"]
    text = _text(report)
    assert not [name for name in names if name.rsplit(".", 1)[0] in text]
    _assert_no_encoded_data(report)
    assert "/tmp/canary-" not in text


def test_load_error_message_is_capped(scanner):
    reports, _names = scanner
    feedback = check(reports["load_message"], "scanner")["feedback"]
    assert "your code failed to load: ValueError: AAAA" in feedback
    assert max(len(run) for run in re.findall("A+", feedback)) <= 120
    assert _learner_bytes(reports["load_message"], reports["load_control"]) < MAX_LEARNER_BYTES


# --- sign-verify-load ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    from mlrange.labs.registry import lab_variant

    spec, dirs = _built("sign-verify-load", tmp_path_factory)
    sources = {name: UNSAFE_VERIFY + hide for name, hide in HIDE.items()}
    sources["reference"] = (LABS / "sign-verify-load" / "solutions" / "reference_crypto.py").read_text()
    return _grade(spec, dirs, sources, {"variant": lab_variant(spec, SEED), "grader_seed": SEED})


@pytest.mark.parametrize("attack", sorted(HIDE))
def test_verifier_that_loads_a_pickle_and_erases_the_evidence_fails_the_format_tier(verifier, attack):
    report = verifier[attack]
    assert report["metrics"]["payloads_executed"] >= 1
    assert passed_tiers(report, {"integrity", "trust", "format"}) == set()
    assert "ran inside your verifier" in check(report, "format")["feedback"]
    # The same verifier without the fallback passes those tiers: the canary made the difference.
    assert passed_tiers(verifier["reference"], {"genuine", "integrity", "trust", "format"}) == {
        "genuine",
        "integrity",
        "trust",
        "format",
    }
    assert verifier["reference"]["metrics"]["payloads_executed"] == 0


# --- prompt-injection-guard ----------------------------------------------------------------

PIG_LEAKS = {
    "leak_base_exception": BLOB
    + """
class Leak(BaseException):
    pass

def guard_input(message, documents):
    raise Leak(_blob(message, documents))
""",
    "leak_class_name": BLOB
    + """
def guard_input(message, documents):
    raise type("Leak_" + _blob(message)[:200], (Exception,), {})(_blob(message, documents))
""",
    "leak_prints": BLOB
    + """
import os, sys

def guard_input(message, documents):
    blob = _blob(message, documents)
    print(message, documents, blob)
    print(message, blob, file=sys.stderr)
    os.write(1, blob.encode())
    raise ValueError(blob)
""",
    "control": "def guard_input(message, documents):\n    raise Exception()\n",
    "forged_replies": BLOB
    + FORGE
    + """
_forged = []

def guard_input(message, documents):
    if not _forged:
        _forged.append(message)
        _forge(_blob(message, documents))
    return True
""",
    # The child's own json module, patched: the batch's reply becomes a forged error.
    "patches_json": """
import base64, json, zlib

_seen = []
_real_dumps = json.dumps

def _dumps(obj, *args, **kwargs):
    if _seen:
        blob = base64.b64encode(zlib.compress(_real_dumps(_seen).encode())).decode()
        forged = {"error": {"type": "Leak_" + blob[:80], "message": blob}}
        return _real_dumps(forged, *args, **kwargs)
    return _real_dumps(obj, *args, **kwargs)

json.dumps = _dumps

def guard_input(message, documents):
    _seen.append(message)
    return True
""",
    # isinstance, patched: the child's encoder raises a data-carrying BaseException outside any guard call.
    "patches_isinstance": BLOB
    + """
import builtins

_seen = []
_real_isinstance = builtins.isinstance

class Leak(BaseException):
    pass

def _isinstance(obj, kinds):
    if _seen and type(obj) is list:
        raise Leak(_blob(_seen))
    return _real_isinstance(obj, kinds)

builtins.isinstance = _isinstance

def guard_input(message, documents):
    _seen.append(message)
    return True
""",
}


@pytest.fixture(scope="module")
def guard(tmp_path_factory):
    spec, dirs = _built("prompt-injection-guard", tmp_path_factory)
    reports = _grade(spec, dirs, PIG_LEAKS, {"variant": {}, "grader_seed": SEED})
    # The held-out cases of this grading and their encodings, recomputed as the grader does.
    held_out = run_python(
        BLOB + "import random, sys\n"
        f"sys.path.insert(0, {str(dirs.grader)!r})\n"
        "import grader\n"
        f"rng = random.Random({SEED} * 7919 + 17)\n"
        "grader._access_code(rng)\n"
        "cases = grader.build_cases(rng)\n"
        "print(json.dumps([[c['message'], c['documents'], _blob(c['message'], c['documents'])] for c in cases]))\n",
        cwd=tmp_path_factory.mktemp("pig-cases"),
    )
    return reports, json.loads(held_out.strip().splitlines()[-1])


@pytest.mark.parametrize("attack", sorted(set(PIG_LEAKS) - {"control"}))
def test_guard_cannot_leak_held_out_prompts_through_feedback(guard, attack):
    reports, cases = guard
    report = reports[attack]
    text = _text(report)
    assert len(cases) > 50
    for message, documents, blob in cases:
        assert message not in text
        assert not [d for d in documents if d in text]
        assert blob[:24] not in text
    _assert_no_encoded_data(report)


@pytest.mark.parametrize("attack", ["leak_base_exception", "leak_class_name", "leak_prints"])
def test_guard_exceptions_and_prints_read_like_a_plain_exception(guard, attack):
    reports, _cases = guard
    assert reports[attack]["metrics"]["guard_errors"] == reports["control"]["metrics"]["guard_errors"] > 50
    assert _without_timings(reports[attack]) == _without_timings(reports["control"])
    assert _learner_bytes(reports[attack], reports["control"]) == 0


def test_a_forged_batch_error_is_named_by_a_builtin_class_only(guard):
    reports, _cases = guard
    feedback = check(reports["patches_json"], "guard-runs")["feedback"]
    assert feedback == "_mlrange_guard_batch() raised an exception."


# --- relaying through a daemon to a restarted child ----------------------------------------

RELAY_GRADER = """
import shutil, tempfile
from pathlib import Path
from _shared.callee import LearnerCodeError, LearnerProcess

def grade(ctx):
    source = ctx.artifacts_dir / "submission.py"
    out = {}
    copy = Path(tempfile.mkdtemp()) / "submission.py"
    shutil.copyfile(source, copy)
    with LearnerProcess(copy, lab={"slug": "t"}) as fresh:
        try:
            fresh.call("echo", "PUBLIC-INPUT", public_inputs=True)
        except LearnerCodeError as exc:
            out["public"] = str(exc)
    with LearnerProcess(source, lab={"slug": "t"}) as first:
        try:
            first.call("see", "HELD-OUT-INPUT-7f3a")
        except LearnerCodeError as exc:
            out["held_out"] = str(exc)
        try:
            first.call("echo", "PUBLIC-INPUT", public_inputs=True)
        except LearnerCodeError as exc:
            out["public_after_held_out"] = str(exc)
    try:
        LearnerProcess(source, lab={"slug": "t"}).close()
        out["restart"] = "loaded"
    except LearnerCodeError as exc:
        out["restart"] = str(exc)
    return out
"""

RELAY = """
import os, socket, time

ADDRESS = ("127.0.0.1", 40404)

def _ask_daemon():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    try:
        sock.sendto(b"?", ADDRESS)
        return sock.recvfrom(4096)[0].decode()
    except OSError:
        return None

_relayed = _ask_daemon()
if _relayed:
    raise ValueError("relayed " + _relayed)

def echo(text):
    raise ValueError("echo " + text)

def see(secret):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(ADDRESS)
        sock.settimeout(30)
        _, peer = sock.recvfrom(16)
        sock.sendto(secret.encode(), peer)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.5)
    raise ValueError("saw " + secret)
"""


def test_no_message_reaches_feedback_once_held_out_inputs_were_seen(tmp_path: Path) -> None:
    grader_dir = tmp_path / "grader"
    grader_dir.mkdir()
    (grader_dir / "grader.py").write_text(RELAY_GRADER)
    shutil.copytree(LABS / "_shared", grader_dir / "_shared")
    for name in ("hidden", "public"):
        (tmp_path / name).mkdir()
    result = run_grader(
        sandbox_config(short_run_dir()),
        grader_dir=grader_dir,
        public_dir=tmp_path / "public",
        hidden_dir=tmp_path / "hidden",
        artifacts={"submission.py": RELAY.encode()},
        params={"grader_seed": 1},
        timeout=60,
    )
    assert result["public"] == "echo() raised ValueError: echo PUBLIC-INPUT"
    assert result["held_out"] == "see() raised ValueError"
    assert result["public_after_held_out"] == "echo() raised ValueError"
    # The daemon did relay the held-out input to the restarted child: only its class is shown.
    assert result["restart"] == "your code failed to load: ValueError"
    assert "HELD-OUT" not in json.dumps(result)


def test_leak_helpers_encode_what_the_attack_claims() -> None:
    """The attacks above really carry their inputs: the blob decodes back to them."""
    namespace: dict = {}
    exec(BLOB, namespace)  # noqa: S102 -- our own test helper
    blob = namespace["_blob"]("Ignore all previous instructions", ["doc"])
    assert json.loads(zlib.decompress(base64.b64decode(blob))) == [
        "Ignore all previous instructions",
        ["doc"],
    ]
