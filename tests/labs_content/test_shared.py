"""The labs' shared toolkit (labs/_shared), run with the sandbox runtime as graders and recipes run it."""

import json
import textwrap

import pytest

from tests.labs_content.conftest import REAL_LABS_DIR
from tests.labs_content.harness import run_python

PRELUDE = f"import sys\nsys.path.insert(0, {str(REAL_LABS_DIR)!r})\n"


def _run(code: str, tmp_path) -> dict:
    out = run_python(PRELUDE + textwrap.dedent(code), cwd=tmp_path)
    return json.loads(out.strip().splitlines()[-1])


def test_variant_readers_take_good_values_and_refuse_the_rest(tmp_path):
    result = _run(
        """
        import json
        from _shared.variants import variant_int, variant_int_list

        def refused(call):
            try:
                call()
            except ValueError as exc:
                return str(exc)
            return None

        params = {"variant": {"n": 7, "flag": True, "rows": [3, 0, 299], "bad": [1, -1], "pair": [1, 2]}}
        print(json.dumps({
            "n": variant_int(params, "n", 0, 9),
            "rows": variant_int_list(params, "rows", high=299),
            "above": refused(lambda: variant_int(params, "n", 0, 6)),
            "bool": refused(lambda: variant_int(params, "flag")),
            "missing": refused(lambda: variant_int(params, "absent")),
            "negative": refused(lambda: variant_int_list(params, "bad")),
            "length": refused(lambda: variant_int_list(params, "pair", length=4)),
        }))
        """,
        tmp_path,
    )
    assert (result["n"], result["rows"]) == (7, [3, 0, 299])
    assert "variant.n must be an integer in 0..6, not 7" in result["above"]
    for key in ("bool", "missing", "negative", "length"):
        assert (result[key] or "").startswith("grader misconfigured"), key


def test_load_indices_reads_any_length_and_refuses_other_shapes_and_dtypes(tmp_path):
    result = _run(
        """
        import json
        from pathlib import Path
        import numpy as np
        from _shared.artifacts import ArtifactError, load_indices

        def outcome(name, array=None, raw=None):
            path = Path(name)
            if raw is not None:
                path.write_bytes(raw)
            else:
                np.save(path, array, allow_pickle=False)
            try:
                return load_indices(path, max_bytes=4096).tolist()
            except ArtifactError as exc:
                return "refused: " + str(exc)

        print(json.dumps({
            "ok": outcome("ok.npy", np.array([5, 1, 9], dtype=np.int64)),
            "empty": outcome("empty.npy", np.zeros(0, dtype=np.int64)),
            "matrix": outcome("matrix.npy", np.zeros((2, 2), dtype=np.int64)),
            "floats": outcome("floats.npy", np.zeros(3)),
            "garbage": outcome("garbage.npy", raw=b"not an npy file"),
            "big": outcome("big.npy", np.zeros(4096, dtype=np.int64)),
        }))
        """,
        tmp_path,
    )
    assert result["ok"] == [5, 1, 9]
    assert result["empty"] == []
    assert "expected a 1-D array" in result["matrix"]
    assert result["floats"].startswith("refused")
    assert "not a valid .npy file" in result["garbage"]
    assert result["big"].startswith("refused")


@pytest.mark.slow
def test_one_training_loop_is_deterministic_and_perturb_replaces_the_batches(tmp_path):
    result = _run(
        """
        import json
        import numpy as np
        import torch
        from _shared.nets import DigitCNN, deterministic, train_classifier
        from _shared.recipes import digits, split

        deterministic()
        x_train, x_test, y_train, y_test = split(*digits(), 7)
        x, y = x_train[:256], y_train[:256]

        def weights(**kwargs):
            model = train_classifier(DigitCNN, x, y, seed=3, epochs=2, **kwargs)
            assert not model.training
            return torch.cat([p.detach().flatten() for p in model.parameters()])

        calls = []

        def blank(model, xb, yb, generator):
            calls.append(model.training)
            return torch.zeros_like(xb)

        first, second = weights(), weights()
        print(json.dumps({
            "same": bool(torch.equal(first, second)),
            "other_seed_differs": not torch.equal(first, torch.cat([
                p.detach().flatten() for p in train_classifier(DigitCNN, x, y, seed=4, epochs=2).parameters()
            ])),
            "perturbed_differs": not torch.equal(first, weights(perturb=blank)),
            "perturb_calls": len(calls),
            "perturb_in_eval_mode": not any(calls),
        }))
        """,
        tmp_path,
    )
    assert result["same"]
    assert result["other_seed_differs"]
    assert result["perturbed_differs"]
    assert result["perturb_calls"] == 2 * 4  # two epochs of four batches of 64
    assert result["perturb_in_eval_mode"]
