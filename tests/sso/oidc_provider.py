"""A small OpenID Connect provider served over real HTTP in a thread, for the SSO tests.

Written from OpenID Connect Core 1.0 and Discovery 1.0: a discovery document, a JWKS, an
authorization endpoint that redirects back with a single-use code (PKCE S256 checked), a token
endpoint that authenticates the client and issues an RS256-signed ID token (PyJWT), a userinfo
endpoint and an end-session endpoint. Tests choose who signs in (`claims`) and can make the
provider misbehave (`id_token_overrides`, `sign_with`), as a hostile or broken provider would.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class OidcProvider:
    def __init__(self, *, client_id: str = "mlrange", client_secret: str = "provider-test-secret") -> None:  # noqa: S107 -- a test provider's secret
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    def reset(self) -> None:
        """Who signs in next, and no misbehaviour."""
        self.claims: dict[str, Any] = {
            "sub": "user-123",
            "email": "ada.lovelace@uni.example",
            "email_verified": True,
            "preferred_username": "ada.lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
        }
        self.id_token_overrides: dict[str, Any] = {}
        self.userinfo_claims: dict[str, Any] | None = None  # None: the signed-in user's claims
        self.sign_with = "provider-key"  # or "other-key", "none"
        self.deny_with = ""  # an OAuth error code the authorization endpoint answers with
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests: list[dict[str, Any]] = []
        self.logouts: list[dict[str, str]] = []

    def start(self) -> "OidcProvider":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What the endpoints answer
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def jwks(self) -> dict[str, Any]:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, *, claims: dict[str, Any], nonce: str | None) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **claims,
        }
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(self.id_token_overrides)
        if self.sign_with == "none":
            return jwt.encode(payload, key=None, algorithm="none")  # type: ignore[arg-type]
        key = self.key if self.sign_with == "provider-key" else self.other_key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": self.kid})


def _b64url_sha256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _handler_for(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the stdlib's name
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.discovery())
            elif url.path == "/jwks":
                self._json(provider.jwks())
            elif url.path == "/authorize":
                self._authorize(query)
            elif url.path == "/userinfo":
                self._userinfo()
            elif url.path == "/logout":
                provider.logouts.append(query)
                body = b"<!doctype html><title>Signed out</title><p>You are signed out of the provider."
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._json({"error": "not_found"}, 404)

        def _authorize(self, query: dict[str, str]) -> None:
            redirect_uri = query.get("redirect_uri", "")
            if query.get("client_id") != provider.client_id or not redirect_uri:
                self._json({"error": "invalid_request", "error_description": "unknown client"}, 400)
                return
            sep = "&" if "?" in redirect_uri else "?"
            state = query.get("state", "")
            if provider.deny_with:
                self._redirect(redirect_uri + sep + urlencode({"error": provider.deny_with, "state": state}))
                return
            bad = (
                query.get("response_type") != "code"
                or "openid" not in query.get("scope", "").split()
                or query.get("code_challenge_method") != "S256"
                or not query.get("code_challenge")
            )
            if bad:
                self._redirect(redirect_uri + sep + urlencode({"error": "invalid_request", "state": state}))
                return
            code = secrets.token_urlsafe(24)
            provider.codes[code] = {
                "claims": dict(provider.claims),
                "nonce": query.get("nonce"),
                "redirect_uri": redirect_uri,
                "code_challenge": query["code_challenge"],
            }
            self._redirect(redirect_uri + sep + urlencode({"code": code, "state": state}))

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json({"error": "not_found"}, 404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            if client_id != provider.client_id or client_secret != provider.client_secret:
                self._json({"error": "invalid_client"}, 401)
                return
            grant = provider.codes.pop(form.get("code", ""), None)  # single use
            if (
                form.get("grant_type") != "authorization_code"
                or grant is None
                or form.get("redirect_uri") != grant["redirect_uri"]
                or _b64url_sha256(form.get("code_verifier", "")) != grant["code_challenge"]
            ):
                self._json({"error": "invalid_grant"}, 400)
                return
            access_token = secrets.token_urlsafe(24)
            provider.codes[f"access:{access_token}"] = grant
            self._json(
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(claims=grant["claims"], nonce=grant["nonce"]),
                }
            )

        def _userinfo(self) -> None:
            auth = self.headers.get("Authorization", "")
            grant = provider.codes.get("access:" + auth.removeprefix("Bearer "))
            if not auth.startswith("Bearer ") or grant is None:
                self._json({"error": "invalid_token"}, 401)
                return
            self._json(provider.userinfo_claims or grant["claims"])

    return Handler
