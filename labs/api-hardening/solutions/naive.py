"""Naive hardening: a strict pydantic schema, API keys and a generic error message, but no
payload limit and no rate limit. Expected: the validation and errors tiers only."""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import hmac
import sys
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

sys.path.insert(0, LAB["assets"])
from model import load_model

model = load_model(Path(LAB["assets"]))
API_KEYS = list(LAB["api_keys"])
MAX_BATCH = int(LAB["max_batch"])

Pixel = Annotated[float, Field(strict=True, ge=0.0, le=16.0, allow_inf_nan=False)]
Row = Annotated[list[Pixel], Field(min_length=64, max_length=64)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    features: Annotated[list[Row], Field(min_length=1, max_length=MAX_BATCH)]


app = FastAPI()


@app.exception_handler(RequestValidationError)
async def invalid(_request, _exc):
    return JSONResponse(status_code=422, content={"detail": "invalid request"})


def api_key(x_api_key: Annotated[str | None, Header()] = None) -> str:
    if not x_api_key or not any(hmac.compare_digest(x_api_key, k) for k in API_KEYS):
        raise HTTPException(status_code=401, detail="missing or unknown API key")
    return x_api_key


@app.post("/predict")
def predict(request: PredictRequest, _key: Annotated[str, Depends(api_key)]):
    return {"predictions": [int(v) for v in model.predict(request.features)]}
