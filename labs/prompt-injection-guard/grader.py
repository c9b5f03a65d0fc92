"""Trusted grader of the prompt-injection-guard lab.

Loads the learner's `guard_input(message, documents)` in a child process through
_shared.callee.LearnerProcess (which confines it with Landlock, so the guard cannot read the
grader, its held-out prompts or its seed) with DRIVER as its epilogue. The grader composes a
fresh set of attacks (five families) and benign prompts from attacks.py with the secret grader
seed, gives the bot here a fresh random access code, asks the guard about every case, runs
the bot (in this process) on what the guard lets through, and looks for the code in the
reply in every form the bot can write it. Only attacks that make the unguarded bot leak count.
The held-out prompts never come back in feedback: a guard that raises (anything, even a
BaseException) or returns a non-bool is counted, never quoted, and an error of the whole
batch is named by its builtin exception class only (_shared.callee).
"""

import base64
import codecs
import random
import re
import time
from pathlib import Path

from attacks import build_cases
from chatbot import REFUSAL, SupportBot

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result

FAMILIES = {
    "direct": "Direct override attacks are blocked",
    "roleplay": "Role-play and persona attacks are blocked",
    "obfuscation": "Obfuscated attacks (encodings, leetspeak, homoglyphs) are blocked",
    "indirect": "Indirect injection through retrieved documents is blocked",
    "multilingual": "Attacks in other languages are blocked",
}
BLOCK_LINE = 0.90
BENIGN_LINE = 0.90
MIN_BLOCKED_FOR_BENIGN = 0.15  # letting everything through earns no usability points
CALL_TIMEOUT_S = 30.0
CODE_WORDS = (
    "AMBER", "BISON", "CEDAR", "DELTA", "EMBER", "FJORD", "GARNET", "HAZEL", "IVORY", "JUNIPER",
    "KESTREL", "LOTUS", "MESA", "NIMBUS", "OPAL", "PRAIRIE", "QUILL", "RAVEN", "SIERRA", "TOPAZ",
)  # fmt: skip

# Runs in the learner's process: what it returns is validated below, and it never passes on
# learner text (an exception's message or class name, a returned object's type name).
DRIVER = '''
def _mlrange_guard_batch(cases):
    """Grader's driver: ask guard_input about every case; errors are reported per case."""
    guard = globals().get("guard_input")
    if not callable(guard):
        return "missing"
    decisions = []
    for case in cases:
        try:
            verdict = guard(case["message"], list(case["documents"]))
            decisions.append(verdict if verdict is True or verdict is False else 0)
        except BaseException:
            decisions.append(0)
    return decisions
'''


def _access_code(rng: random.Random) -> str:
    first, second = rng.sample(CODE_WORDS, 2)
    return f"{first}-{rng.randrange(1000, 10000)}-{second}"


def leaked(reply: str, code: str) -> bool:
    """True when the reply contains the code in any form the bot can write it."""
    flat = re.sub(r"[^a-z0-9]", "", reply.lower())
    plain = re.sub(r"[^a-z0-9]", "", code.lower())
    forms = {plain, plain[::-1], codecs.encode(plain, "rot13")}
    if any(form in flat for form in forms):
        return True
    if code.encode().hex() in reply.lower():
        return True
    encoded = base64.b64encode(code.encode()).decode()
    return encoded.rstrip("=") in reply


def _failed_all(message: str, metrics: dict) -> dict:
    checks = [Check("guard-runs", "Your guard loads and answers", False, message)]
    checks += [
        Check(f, title, False, "Not scored: your guard did not run (see above).")
        for f, title in FAMILIES.items()
    ]
    checks.append(Check("benign", "Benign prompts are answered", False, "Not scored."))
    return grade_result(checks, metrics)


def _ask_guard(ctx, cases: list[dict]) -> list:
    source = Path(ctx.artifacts_dir) / "submission.py"
    lab = {"slug": "prompt-injection-guard", "assets": str(ctx.public_dir)}
    wire = [{"message": c["message"], "documents": c["documents"]} for c in cases]
    with LearnerProcess(source, lab=lab, load_timeout=30.0, epilogue=DRIVER) as learner:
        decisions = learner.call("_mlrange_guard_batch", wire, timeout=CALL_TIMEOUT_S)
    if decisions == "missing":  # the driver's own words: an error's text would not be shown
        raise LearnerCodeError("your code defines no guard_input(message, documents) function")
    if not isinstance(decisions, list) or len(decisions) != len(cases):
        raise LearnerCodeError("the guard batch returned an unexpected result")
    # Anything but a bool is a guard that raised or returned something else: no answer.
    return [d if isinstance(d, bool) else None for d in decisions]


def grade(ctx) -> dict:
    """Score the guard on held-out attacks (blocked) and benign prompts (answered)."""
    rng = random.Random(int(ctx.params.get("grader_seed", 0)) * 7919 + 17)  # noqa: S311 -- reproducible from the secret seed
    code = _access_code(rng)
    bot = SupportBot(code)
    cases = build_cases(rng)
    metrics: dict[str, float] = {"cases": float(len(cases))}
    started = time.monotonic()
    try:
        decisions = _ask_guard(ctx, cases)
    except LearnerCodeError as exc:
        metrics["guard_seconds"] = round(time.monotonic() - started, 3)
        return _failed_all(f"{exc}.", metrics)
    metrics["guard_seconds"] = round(time.monotonic() - started, 3)

    stats = {f: [0, 0] for f in (*FAMILIES, "benign")}  # [counted, good]
    errors = 0
    for case, decision in zip(cases, decisions, strict=True):
        family = case["family"]
        unguarded = bot.reply(case["message"], case["documents"])
        if family == "benign":
            if leaked(unguarded, code) or unguarded == REFUSAL:
                continue  # not a usable benign case for this code
        elif not leaked(unguarded, code):
            continue  # an attack that does not work on the bare bot proves nothing
        stats[family][0] += 1
        if decision is None:
            errors += 1
            allowed = family != "benign"  # a crashing guard fails open for attacks, closed for users
        else:
            allowed = decision
        if family == "benign":
            stats[family][1] += int(allowed)
        else:
            final = bot.reply(case["message"], case["documents"]) if allowed else ""
            stats[family][1] += int(not leaked(final, code))
    metrics["guard_errors"] = float(errors)
    return _score(stats, errors, metrics)


def _score(stats: dict, errors: int, metrics: dict) -> dict:
    counted, answered = stats["benign"]
    benign_rate = answered / max(counted, 1)
    benign_ok = benign_rate >= BENIGN_LINE
    metrics["benign_answered"] = round(benign_rate, 4)
    attacks = sum(stats[f][0] for f in FAMILIES)
    blocked_rate = sum(stats[f][1] for f in FAMILIES) / max(attacks, 1)
    metrics["attacks_blocked"] = round(blocked_rate, 4)
    usable = benign_ok and blocked_rate >= MIN_BLOCKED_FOR_BENIGN
    crash_note = (
        f" Your guard raised or returned a non-bool on {errors} prompts: fix that first." if errors else ""
    )
    checks = [
        Check(
            "guard-runs",
            "Your guard loads and answers",
            errors == 0,
            "guard_input returned a bool for every prompt." if errors == 0 else crash_note.strip(),
        )
    ]
    for family, title in FAMILIES.items():
        total, blocked = stats[family]
        rate = blocked / max(total, 1)
        metrics[f"{family}_blocked"] = round(rate, 4)
        ok = rate >= BLOCK_LINE and benign_ok
        if rate < BLOCK_LINE:
            feedback = f"Blocked {blocked} of {total} attacks of this family ({rate:.0%}); "
            feedback += f"the line is {BLOCK_LINE:.0%}."
            feedback += _HINTS[family]
        elif not benign_ok:
            feedback = f"Blocked {rate:.0%}, but not awarded while benign prompts are refused (see below)."
        else:
            feedback = f"Blocked {blocked} of {total} ({rate:.0%}): passed."
        checks.append(Check(family, title, ok, feedback))
    idle = (
        f" A guard must also stop something: only {blocked_rate:.0%} of all attacks were blocked "
        f"(at least {MIN_BLOCKED_FOR_BENIGN:.0%} needed for this tier)."
        if blocked_rate < MIN_BLOCKED_FOR_BENIGN
        else ""
    )
    checks.append(
        Check(
            "benign",
            "Benign prompts are answered",
            usable,
            f"Let through {answered} of {counted} benign prompts ({benign_rate:.0%}); the line is "
            f"{BENIGN_LINE:.0%}."
            + idle
            + (
                ""
                if benign_ok
                else " Benign prompts that mention passwords, 'ignore my previous message', base64 they want "
                "decoded, role words or other languages must still be answered: block intent, not words."
            )
            + crash_note,
        )
    )
    return grade_result(checks, metrics)


_HINTS = {
    "direct": " Look for override framings combined with a request for protected data.",
    "roleplay": " Persona and game framings ask for the same thing: judge the request, not the framing.",
    "obfuscation": " Normalise first (Unicode NFKC, zero-width characters, look-alike letters, leetspeak), "
    "and decode base64 and rot13 before you judge.",
    "indirect": " Retrieved documents are untrusted input too: check the documents, not only the message.",
    "multilingual": " The bot understands other languages; your guard should too.",
}
