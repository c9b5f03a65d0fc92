# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Harden an ML inference API
#
# This FastAPI app serves a digit classifier at `POST /predict`. It works, and it is
# vulnerable: no schema, no value checks, no payload limit, no authentication, no rate
# limit, and its errors leak stack traces. Harden it (read the brief for the exact rules).
# `LAB` is defined for you: `LAB["api_keys"]` (your 16 client keys), `LAB["rate_limit"]`
# (requests per key per 60 s) and `LAB["max_batch"]` (rows per request).
#
# The grader imports this code (with `__name__ == "submission"`), takes the module-level
# `app` and replays its own traffic. Keep demo code under `if __name__ == "__main__":`.

# %%
import json
import sys
import traceback
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

sys.path.insert(0, LAB["assets"])  # model.py lives in the read-only assets folder
from model import load_model

ASSETS = Path(LAB["assets"])
API_KEYS = list(LAB["api_keys"])
RATE_LIMIT = int(LAB["rate_limit"])  # requests per key per 60 seconds
MAX_BATCH = int(LAB["max_batch"])  # rows per request
MAX_BODY_BYTES = 32_768

model = load_model(ASSETS)
app = FastAPI(title="digits-api")


# %%
@app.post("/predict")
async def predict(request: Request):
    """VULNERABLE: trusts whatever JSON arrives and leaks tracebacks on errors."""
    try:
        payload = await request.json()
        rows = np.asarray(payload["features"], dtype=np.float64)
        return {"predictions": [int(label) for label in model.predict(rows)]}
    except Exception as exc:  # TODO: never send internals to clients
        return JSONResponse(status_code=500, content={"error": repr(exc), "trace": traceback.format_exc()})


# %%
if __name__ == "__main__":
    # Self-test in the notebook only (the grader imports this code without running it).
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    examples = json.loads((ASSETS / "examples.json").read_text())
    key = {"x-api-key": API_KEYS[0]}
    probes = {
        "valid": {"features": examples["features"][:1]},
        "nan": '{"features": [[NaN' + ", 0" * 63 + "]]}",
        "string": {"features": [["7"] * 64]},
        "short row": {"features": [[0] * 63]},
    }
    report = {}
    for name, body in probes.items():
        if isinstance(body, str):
            response = client.post(
                "/predict", content=body, headers={**key, "content-type": "application/json"}
            )
        else:
            response = client.post("/predict", json=body, headers=key)
        report[name] = response.status_code
        print(f"{name:10} -> {response.status_code} {response.text[:80]}")
    Path("selfcheck.json").write_text(json.dumps(report))
