"""Trusted grader of the extraction-monitor lab.

Loads monitor_config.json safely (size cap, strict JSON, an object), then runs the learner's
`Monitor(config, x_train)` in a child process through _shared.callee.LearnerProcess (confined with
Landlock by _shared/callee_child.py: it sees the public assets and what the grader passes).
Fresh query streams are generated here from the secret grader seed (traffic.py): benign
customers of the learner's deployment profile (params["variant"], never the learner's claim)
and six extraction-attack families, one of them (boundary probing) never shown to learners.
Each request is handed to `observe(client_id, inputs, probs)` as it arrives; a flagged client
is blocked. An attack stream is detected when an attacker id is flagged before the attacker's
100th query is answered; a benign stream is a false alarm when any of its clients is flagged.
"""

import json
import time
from pathlib import Path

import numpy as np
import traffic

from _shared.artifacts import ArtifactError, read_artifact_bytes
from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result

CONFIG_NAME = "monitor_config.json"
MAX_CONFIG_BYTES = 65_536
N_BENIGN = 10
N_PER_FAMILY = 5
MAX_FALSE_ALARMS = 1
DETECT_LINE = 4  # of N_PER_FAMILY
MIN_ATTACKS_FLAGGED = 0.3  # a monitor that flags nothing earns no false-alarm points
FAMILIES = {
    "noise": "Random-noise queries are detected",
    "jacobian": "Jacobian-based augmentation (Papernot) is detected",
    "synthetic": "Synthetic samples of the data distribution are detected",
    "knockoff": "Knockoff queries with other public images are detected",
    "boundary": "Held-out family: decision-boundary probing is detected",
    "sybil": "An attacker spread over several client ids is detected",
}
NEW_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 5.0
LEARNER_BUDGET_S = 45.0  # all calls of one grading together
HINTS = {
    "noise": " Random inputs are far from every training digit: score how out-of-distribution "
    "a client's queries are.",
    "jacobian": " Augmented queries sit very close to the client's earlier queries: look at the "
    "distribution of each new query's distance to the client's previous ones (PRADA).",
    "synthetic": " Samples of a fitted model look like digits one by one but not as a set: compare the "
    "distribution of a client's scores with your benign traffic's, not only single queries.",
    "knockoff": " Images from another domain are out of distribution for the victim: score them against the "
    "training data.",
    "boundary": " Some attackers search for the decision boundary with tiny steps between inputs: "
    "a monitor that tests query-distance distributions catches attacks it has never seen.",
    "sybil": " An attacker can spread queries over many client ids, each sending only a few: relate "
    "clients to each other (near-duplicate queries across ids) and judge the group.",
}


class MonitorBrokenError(Exception):
    """The learner's monitor cannot be used any more (crashed, hung, over the time budget)."""


def _load_config(path: Path) -> dict:
    data = read_artifact_bytes(path, max_bytes=MAX_CONFIG_BYTES)

    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not valid JSON")

    try:
        config = json.loads(data.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArtifactError(
            f"{CONFIG_NAME} is not valid UTF-8 JSON ({type(exc).__name__}): write it with json.dump "
            "and plain numbers (no NaN or Infinity)."
        ) from None
    if not isinstance(config, dict):
        raise ArtifactError(f"{CONFIG_NAME} must hold a JSON object (a dict), not a {type(config).__name__}.")
    return config


def _profile(params: dict) -> dict:
    profile = params.get("variant", {}).get("profile", {})
    name = profile.get("name") if isinstance(profile, dict) else None
    if name not in traffic.PROFILES:
        raise ValueError(
            f"grader misconfigured: variant.profile.name must be one of {sorted(traffic.PROFILES)}"
        )
    return {"name": name, **traffic.PROFILES[name]}


class _Replayer:
    """Replays streams into fresh Monitor instances in one learner child process."""

    def __init__(self, learner: LearnerProcess, config: dict, x_train: np.ndarray) -> None:
        self.learner = learner
        self.config = config
        self.x_train = x_train
        self.spent = 0.0
        self.errors = 0

    def _timed(self, fn, *args, **kwargs):
        if self.spent > LEARNER_BUDGET_S:
            raise MonitorBrokenError(
                f"your monitor used more than {LEARNER_BUDGET_S:.0f} s in all; make observe() faster"
            )
        started = time.monotonic()
        try:
            return fn(*args, **kwargs)
        except LearnerCodeError as exc:
            raise MonitorBrokenError(str(exc)) from None
        finally:
            self.spent += time.monotonic() - started

    def replay(self, stream: list[traffic.Request]) -> tuple[int | None, int]:
        """(attacker queries answered when an attacker id was first flagged, benign clients flagged)."""
        handle = self._timed(self.learner.new, "Monitor", self.config, self.x_train, timeout=NEW_TIMEOUT_S)
        blocked: set[str] = set()
        attacker_queries = 0
        benign_flagged = 0
        has_attacker = any(r.attacker for r in stream)
        for request in stream:
            if request.client in blocked:
                continue
            if request.attacker:
                attacker_queries += len(request.x)
                if attacker_queries > traffic.BUDGET:
                    break  # too late: the attacker already has what it came for
            alarm = self._timed(
                self.learner.call_method,
                handle,
                "observe",
                request.client,
                request.x,
                request.probs,
                timeout=CALL_TIMEOUT_S,
            )
            if not isinstance(alarm, bool):
                self.errors += 1
                continue  # a non-answer raises no alarm
            if not alarm:
                continue
            blocked.add(request.client)
            if request.attacker:
                return attacker_queries, benign_flagged
            benign_flagged += 1
            if not has_attacker:
                break  # one false alarm is enough to count this benign stream
        return None, benign_flagged


def _failed_all(check_id: str, title: str, message: str, metrics: dict) -> dict:
    checks = [Check(check_id, title, False, message)]
    checks.append(Check("benign", "Benign customers are not flagged", False, "Not scored."))
    checks += [Check(f, t, False, "Not scored: see the first check.") for f, t in FAMILIES.items()]
    return grade_result(checks, metrics)


def _streams(seed: int, profile: dict, hidden: Path, victim: traffic.Victim) -> list[tuple[str, list]]:
    rng = np.random.default_rng([seed, 0x4D4F4E])
    benign_x = np.load(hidden / "benign_x.npy", allow_pickle=False)
    benign_y = np.load(hidden / "benign_y.npy", allow_pickle=False)
    attack_x = np.load(hidden / "attack_x.npy", allow_pickle=False)
    out = [("benign", traffic.benign_stream(rng, benign_x, benign_y, profile)) for _ in range(N_BENIGN)]
    for family in FAMILIES:
        for _ in range(N_PER_FAMILY):
            stream = traffic.attack_stream(
                family,
                rng,
                attack_pool=attack_x,
                benign_x=benign_x,
                benign_y=benign_y,
                profile=profile,
                victim=victim,
                sybil_bases=("jacobian", "boundary"),
            )
            out.append((family, stream))
    return [(family, traffic.label_stream(stream, victim)) for family, stream in out]


def grade(ctx) -> dict:
    """Replay benign and attack streams into the learner's monitor; score detections and false alarms."""
    started = time.monotonic()
    profile = _profile(ctx.params)
    seed = int(ctx.params.get("grader_seed", 0))
    metrics: dict[str, float] = {}
    try:
        config = _load_config(Path(ctx.artifacts_dir) / CONFIG_NAME)
    except ArtifactError as exc:
        return _failed_all("config-file", f"{CONFIG_NAME} is valid", str(exc), metrics)
    hidden = Path(ctx.hidden_dir)
    with np.load(hidden / "victim.npz", allow_pickle=False) as weights:
        victim = traffic.Victim(dict(weights))
    streams = _streams(seed, profile, hidden, victim)
    x_train = np.load(hidden / "x_train.npy", allow_pickle=False)
    source = Path(ctx.artifacts_dir) / "submission.py"
    lab = {"slug": "extraction-monitor", "assets": str(ctx.public_dir), "profile": profile}
    results: dict[str, list] = {"benign": [], **{f: [] for f in FAMILIES}}
    background = 0
    broken = None
    try:
        with LearnerProcess(source, lab=lab, load_timeout=NEW_TIMEOUT_S) as learner:
            replayer = _Replayer(learner, config, x_train)
            for family, stream in streams:
                detected_at, flagged = replayer.replay(stream)
                if family == "benign":
                    results[family].append(flagged > 0)
                else:
                    results[family].append(detected_at)
                    background += flagged
            errors = replayer.errors
            metrics["monitor_seconds"] = round(replayer.spent, 3)
    except (LearnerCodeError, MonitorBrokenError) as exc:
        broken = str(exc)
    metrics["grading_seconds"] = round(time.monotonic() - started, 3)
    if broken is not None:
        return _failed_all("monitor-runs", "Your monitor loads and answers", f"{broken}.", metrics)
    return _score(results, errors, background, metrics)


def _score(results: dict, errors: int, background: int, metrics: dict) -> dict:
    false_alarms = sum(results["benign"])
    attack_total = sum(len(results[f]) for f in FAMILIES)
    attack_flagged = sum(d is not None for f in FAMILIES for d in results[f])
    metrics["benign_streams_flagged"] = float(false_alarms)
    metrics["attack_streams_detected"] = round(attack_flagged / attack_total, 4)
    metrics["background_clients_flagged"] = float(background)
    metrics["non_bool_answers"] = float(errors)
    quiet = false_alarms <= MAX_FALSE_ALARMS
    useful = attack_flagged / attack_total >= MIN_ATTACKS_FLAGGED
    checks = [
        Check(
            "monitor-runs",
            "Your monitor loads and answers",
            errors == 0,
            "observe() returned True or False for every request."
            if errors == 0
            else f"observe() returned something other than True/False {errors} times (counted as no alarm).",
        )
    ]
    benign_feedback = (
        f"{false_alarms} of {len(results['benign'])} benign streams had a customer flagged; at most "
        f"{MAX_FALSE_ALARMS} may be."
    )
    if not quiet:
        benign_feedback += (
            " Normal customers send a few hundred digits each, retry timed-out requests and have "
            "their own scanner noise: calibrate on your own profile's benign examples, and do not "
            "alarm on volume alone."
        )
    if not useful:
        benign_feedback += (
            f" A monitor must also catch something: only {attack_flagged} of {attack_total} attack "
            f"streams were detected (at least {MIN_ATTACKS_FLAGGED:.0%} needed for this tier)."
        )
    if background:
        benign_feedback += f" In attack streams, {background} benign background customers were flagged too."
    ok = quiet and useful
    checks.append(
        Check(
            "benign",
            "Benign customers are not flagged",
            ok,
            benign_feedback,
        )
    )
    for family, title in FAMILIES.items():
        times = [d for d in results[family] if d is not None]
        metrics[f"{family}_detected"] = float(len(times))
        metrics[f"{family}_median_queries"] = float(np.median(times)) if times else -1.0
        hit = len(times) >= DETECT_LINE
        passed = hit and quiet
        feedback = (
            f"Detected {len(times)} of {len(results[family])} streams before the attacker's "
            f"{traffic.BUDGET}th query"
            + (f" (median {int(np.median(times))} queries)" if times else "")
            + f"; the line is {DETECT_LINE} of {N_PER_FAMILY}"
        )
        if not hit:
            feedback += "." + HINTS[family]
        elif not quiet:
            feedback += ", but detections count only while benign streams are not flagged (see above)."
        else:
            feedback += ": passed."
        checks.append(Check(family, title, passed, feedback))
    return grade_result(checks, metrics)
