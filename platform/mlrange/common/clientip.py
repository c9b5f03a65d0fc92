"""The client's address: the one rule that throttles and login lockout both key on.

`X-Forwarded-For` is written by whoever sends the request, so it is believed only as far as
settings.TRUSTED_PROXY_COUNT proxies of our own appended to it. With 0 (the default) the header
is ignored and the address is the TCP peer's (REMOTE_ADDR).
"""

import ipaddress
from typing import Any

from django.conf import settings


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: Any) -> str:
    """The address of the client that sent `request` (a Django or DRF request).

    Behind N trusted proxies, each of which appends the address it received the request from,
    the client is the N-th entry from the right of `X-Forwarded-For`; entries to its left were
    written by the client and are never used. A header with fewer entries than proxies, or an
    entry that is not an IP address, falls back to REMOTE_ADDR.
    """
    meta = request.META
    remote_addr = str(meta.get("REMOTE_ADDR") or "")
    trusted: int = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote_addr
    forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < trusted:
        return remote_addr
    candidate = forwarded[-trusted]
    return candidate if _is_ip(candidate) else remote_addr
