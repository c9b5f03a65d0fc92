"""DRF throttles keyed on the client's address as mlrange.common.clientip sees it.

DRF's own throttles identify an anonymous caller by the raw `X-Forwarded-For` header, so a
client that changes the header each time is never throttled. These use `client_ip`, the same
rule as the login lockout (django-axes).
"""

from typing import Any

from rest_framework import throttling

from mlrange.common.clientip import client_ip


class AnonThrottle(throttling.AnonRateThrottle):
    """`anon` rate for unauthenticated callers, per client address."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class UserThrottle(throttling.UserRateThrottle):
    """`user` rate for authenticated callers, per user (per address when anonymous)."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class ScopedThrottle(throttling.ScopedRateThrottle):
    """The rate named by a view's `throttle_scope`, per user or, when anonymous, per address."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request)
