"""Trusted grader of the model-file-scanner lab.

Builds a fresh corpus of benign and malicious model files from the secret grader seed (see
corpus.py: the families of the public samples plus held-out ones), hands each file's bytes
to the learner's `scan(data, filename)` through _shared.callee (a child process, JSON over a
pipe) and scores the verdicts. Every payload, if anything ever runs it, appends its file's
stem to a FIFO the grader holds open (_shared.canary.CanaryPipe): the learner's process may
write to that FIFO and nothing else about it, and bytes in a pipe cannot be taken back, so a
scanner that loads files in forks, subfolders or daemons and deletes what it can still gets
caught. The grader drains the pipe after every call and once more at the end; any byte there
disqualifies. Feedback never quotes what the learner's code raised beyond a builtin exception
name (_shared.callee). The grader itself never unpickles anything: it only writes pickles.
"""

import random
import time
from collections import Counter
from pathlib import Path

import torch
from corpus import CorpusFile, build_corpus, stem

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.canary import CanaryPipe
from _shared.grading import Check, grade_result

SLUG = "model-file-scanner"
MAX_FALSE_ALARM_RATE = 1 / 8
CALL_TIMEOUT_S = 5.0
LOAD_TIMEOUT_S = 30.0
MAX_RESTARTS = 3
HINT = (
    " Scan, never load: list every import the pickle makes (GLOBAL, INST and STACK_GLOBAL, "
    "whose strings may come from the memo) and reject anything outside a short allow-list of "
    "what tensors and arrays need. Look at every pickle a loader could read: each .pkl member "
    "of a zip, several pickles in a row, object arrays in .npy files. If you cannot parse it, "
    "reject it."
)


def _format(file: CorpusFile) -> str:
    data = file.data
    if data[:4] == b"PK\x03\x04":
        return "zip (torch)"
    if data[:6] == b"\x93NUMPY":
        return "npy"
    return "pickle stream"


class Scanner:
    """The learner's scan() in a child process, restarted (a few times) if it dies."""

    def __init__(self, source: Path, lab: dict, canary: str) -> None:
        self.source, self.lab, self.canary, self.restarts = source, lab, canary, 0
        self.process: LearnerProcess | None = self._start()

    def _start(self) -> LearnerProcess:
        return LearnerProcess(self.source, lab=self.lab, load_timeout=LOAD_TIMEOUT_S, canary=self.canary)

    def scan(self, file: CorpusFile) -> bool | str:
        """The verdict (True: reject), or a string saying why there is none."""
        if self.process is None:
            if self.restarts >= MAX_RESTARTS:
                return "your scanner's process died too often; the remaining files were not scanned"
            self.restarts += 1
            try:
                self.process = self._start()
            except LearnerCodeError as exc:
                return str(exc)
        try:
            verdict = self.process.call("scan", file.data, file.name, timeout=CALL_TIMEOUT_S)
        except LearnerCodeError as exc:
            if not exc.raised:  # it hung or died: start a fresh one
                self.process.close()
                self.process = None
            return str(exc)
        if not isinstance(verdict, bool):
            return f"scan() returned {type(verdict).__name__}, not True or False"
        return verdict

    def close(self) -> None:
        if self.process is not None:
            self.process.close()


def _tier(check_id: str, title: str, passed: bool, feedback: str) -> Check:
    return Check(check_id, title, passed, feedback)


def grade(ctx) -> dict:
    """Run the learner's scanner on a fresh corpus and score catches, false alarms, canaries."""
    torch.set_num_threads(1)
    seed = int(ctx.params.get("grader_seed", 0))
    rng = random.Random(f"{SLUG}:{seed}")  # noqa: S311 -- test data, not crypto
    with CanaryPipe() as pipe:
        return _grade(ctx, rng, pipe)


def _grade(ctx, rng: random.Random, pipe: CanaryPipe) -> dict:  # noqa: PLR0915 -- one tier after another
    corpus = build_corpus(rng, pipe.target)
    source = Path(ctx.artifacts_dir) / "submission.py"
    lab = {"slug": SLUG, "assets": str(ctx.public_dir), **ctx.params.get("variant", {})}
    checks: list[Check] = []
    verdicts: dict[str, bool | str] = {}
    started = time.monotonic()
    try:
        scanner = Scanner(source, lab, pipe.path)
    except LearnerCodeError as exc:
        scanner = None
        load_feedback = f"{exc}. Define scan(data: bytes, filename: str) -> bool at the top level."
    else:
        load_feedback = "Your scan() was loaded and called on every file of a fresh corpus."
    if scanner is not None:
        try:
            for file in corpus:
                verdicts[file.name] = scanner.scan(file)
                pipe.drain()
        finally:
            scanner.close()
    pipe.settle()  # a payload started in the background gets a moment to show itself
    fired = pipe.fired(stem(f) for f in corpus)
    executed = [f for f in corpus if stem(f) in fired]
    seconds = time.monotonic() - started
    answered = sum(isinstance(v, bool) for v in verdicts.values())
    if scanner is not None and not answered:
        load_feedback = "Your code loaded, but scan() gave no verdict on any file."
    checks.append(Check("scanner", "Your scan() loads and answers", answered > 0, load_feedback))

    malicious = [f for f in corpus if f.malicious]
    benign = [f for f in corpus if not f.malicious]
    known = [f for f in malicious if f.known]
    held_out = [f for f in malicious if not f.known]
    errors = [v for v in verdicts.values() if isinstance(v, str)]
    missed_known = [f for f in known if verdicts.get(f.name) is not True]
    missed_held = [f for f in held_out if verdicts.get(f.name) is not True]
    false_alarms = [f for f in benign if verdicts.get(f.name) is not False]
    ran_anything = scanner is not None and len(verdicts) == len(corpus)
    disqualified = pipe.tripped
    error_note = f" {len(errors)} call(s) gave no verdict, e.g.: {errors[0]}." if errors else ""

    if disqualified:
        ran = (
            f"{len(executed)} payload(s) ran inside your scanner: it loaded (unpickled) untrusted files."
            if executed
            else "Something wrote to the grader's canary, which only the test files' payloads know of."
        )
        feedback = (
            f"{ran} A scanner that executes what it scans is the vulnerability it should catch, "
            "so no tier is awarded, wherever it loads them (a fork, a subfolder, a daemon) and "
            "whatever it deletes afterwards. Inspect the bytes (pickletools.genops) instead of loading them."
        )
        checks.append(_tier("no-execution", "No payload ever executed", False, feedback))
        for tier_id, title in (
            ("known-families", "Catches every malicious file of the sample families"),
            ("held-out-families", "Catches every malicious file of the held-out families"),
            ("benign", "False alarms on at most 1 in 8 benign files"),
        ):
            checks.append(_tier(tier_id, title, False, "Not scored: a payload executed in your scanner."))
    else:
        known_ok = ran_anything and not missed_known
        feedback = (
            f"Caught {len(known) - len(missed_known)} of {len(known)} malicious files of the families "
            "in the public samples."
            + ("" if known_ok else " Every one must be flagged (scan() returns True)." + error_note)
        )
        checks.append(
            _tier("known-families", "Catches every malicious file of the sample families", known_ok, feedback)
        )
        held_ok = ran_anything and not missed_held
        formats = Counter(_format(f) for f in missed_held)
        where = ", ".join(f"{kind}: {count}" for kind, count in sorted(formats.items()))
        caught = len(held_out) - len(missed_held)
        feedback = f"Caught {caught} of {len(held_out)} malicious files of held-out families."
        if not held_ok:
            feedback += f" Missed files by format: {where}.{error_note}{HINT}"
        checks.append(
            _tier(
                "held-out-families",
                "Catches every malicious file of the held-out families",
                held_ok,
                feedback,
            )
        )
        rate = len(false_alarms) / len(benign)
        benign_ok = known_ok and rate <= MAX_FALSE_ALARM_RATE + 1e-9
        feedback = (
            f"Flagged {len(false_alarms)} of {len(benign)} benign files; at most 1 in 8 may be flagged."
        )
        if not known_ok:
            feedback = (
                "Not scored until every sample-family file is caught (rejecting nothing is not a scanner)."
            )
        elif not benign_ok:
            formats = Counter(_format(f) for f in false_alarms)
            where = ", ".join(f"{kind}: {count}" for kind, count in sorted(formats.items()))
            feedback += (
                f" False alarms by format: {where}. Honest checkpoints import torch's tensor "
                "rebuild functions, storages, collections.OrderedDict and numpy's array "
                "reconstruction; match imports exactly (module and name), not words in the bytes."
            )
        checks.append(_tier("benign", "False alarms on at most 1 in 8 benign files", benign_ok, feedback))
        feedback = (
            "The canary stayed silent: no payload ran while your scanner worked."
            if known_ok
            else "Not scored until every sample-family file is caught."
        )
        checks.append(_tier("no-execution", "No payload ever executed", known_ok, feedback))

    metrics = {
        "malicious_total": len(malicious),
        "malicious_caught": len(malicious) - len(missed_known) - len(missed_held),
        "held_out_caught": len(held_out) - len(missed_held),
        "benign_total": len(benign),
        "benign_flagged": len(false_alarms),
        "payloads_executed": max(len(executed), int(pipe.tripped)),
        "no_verdict": len(errors),
        "scan_seconds": round(seconds, 3),
    }
    return grade_result(checks, metrics)
