"""Reference hardening of the digits API with FastAPI and pydantic.

Layers, outermost first: a pure ASGI body-size limit (counts the bytes it receives, so it
also stops chunked bodies without Content-Length), API-key authentication, a per-key
sliding-window rate limiter, a strict pydantic schema (finite numbers in [0, 16], exactly 64
per row, 1..max_batch rows, no unknown fields, no type coercion), and exception handlers
that answer short fixed messages: no input echo, no internals, never a 5xx with details.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import hmac
import sys
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

sys.path.insert(0, LAB["assets"])
from model import load_model

model = load_model(Path(LAB["assets"]))
API_KEYS = tuple(LAB["api_keys"])
RATE_LIMIT = int(LAB["rate_limit"])
MAX_BATCH = int(LAB["max_batch"])
MAX_BODY_BYTES = 32_768
WINDOW_S = 60.0

Pixel = Annotated[float, Field(strict=True, ge=0.0, le=16.0, allow_inf_nan=False)]
Row = Annotated[list[Pixel], Field(min_length=64, max_length=64)]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    features: Annotated[list[Row], Field(min_length=1, max_length=MAX_BATCH)]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


class BodyLimit:
    """Refuse bodies over max_bytes with 413 before anything parses them."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _error(413, "request body too large")(scope, receive, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await _error(413, "request body too large")(scope, receive, send)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


class RateLimiter:
    """At most `limit` requests per key in any rolling window of `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            hits = self.hits[key]
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


limiter = RateLimiter(RATE_LIMIT, WINDOW_S)
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(RequestValidationError)
async def invalid_request(_request, exc):
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "body"
    return _error(422, f"invalid request at {where}"[:200])


@app.exception_handler(StarletteHTTPException)
async def http_error(_request, exc):
    messages = {
        400: "malformed request body",
        401: "missing or unknown API key",
        413: "request body too large",
    }
    response = _error(exc.status_code, messages.get(exc.status_code, "request refused"))
    if exc.status_code == 429:
        response.headers["Retry-After"] = str(int(WINDOW_S))
    return response


@app.exception_handler(Exception)
async def unexpected(_request, _exc):
    return _error(500, "internal error")


def client_key(x_api_key: Annotated[str | None, Header()] = None) -> str:
    if not x_api_key or not any(hmac.compare_digest(x_api_key.encode(), k.encode()) for k in API_KEYS):
        raise HTTPException(status_code=401)
    if not limiter.allow(x_api_key):
        raise HTTPException(status_code=429)
    return x_api_key


@app.post("/predict")
def predict(request: PredictRequest, _key: Annotated[str, Depends(client_key)]):
    return {"predictions": [int(v) for v in model.predict(request.features)]}


app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
