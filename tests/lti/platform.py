"""A small LTI 1.3 Advantage platform (an LMS) written from the IMS specifications, for tests.

It serves over real HTTP, on a thread: its JWKS, the OIDC authentication endpoint, an OAuth2
token endpoint (client_credentials with a JWT assertion the tool signs, checked against the
tool's JWKS), Assignment and Grade Services line items and scores, Names and Role Provisioning
memberships, a deep-linking return endpoint that verifies the tool's signed response, and a
course page that frames the tool. Nothing of MLRange is imported here.
"""

from __future__ import annotations

import dataclasses
import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@dataclass
class Member:
    sub: str
    name: str
    email: str
    roles: list[str]
    status: str = "Active"


@dataclass
class Course:
    id: str
    title: str
    members: list[Member] = field(default_factory=list)


class Platform:
    """The LMS. `prepare_launch` stages a message; the OIDC auth request then returns it signed."""

    def __init__(self, *, client_id: str = "mlrange-client", deployment_id: str = "deployment-1") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "platform-key-1"
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.tool_jwks_url = ""
        self.tool_login_url = ""
        self.tool_launch_url = ""
        self.courses: dict[str, Course] = {}
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.deep_link_items: list[dict[str, Any]] = []
        self.tokens: dict[str, list[str]] = {}
        self.token_requests = 0
        self.is_down = False
        self.course_page_launches: dict[str, dict[str, Any]] = {}
        self._staged: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> Platform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def auth_url(self) -> str:
        return f"{self.url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    # -- launches ------------------------------------------------------------------------
    def course(self, course_id: str, title: str, members: list[Member]) -> Course:
        # Copies: a test that drops a member changes this course, not the shared Member values.
        self.courses[course_id] = Course(course_id, title, [dataclasses.replace(m) for m in members])
        return self.courses[course_id]

    def prepare_launch(
        self,
        *,
        member: Member,
        course_id: str,
        message_type: str = "LtiResourceLinkRequest",
        custom: dict[str, str] | None = None,
        resource_link_id: str = "link-1",
        lineitem: str | None = None,
        claims: dict[str, Any] | None = None,
        signing: str = "platform",
        expires_in: int = 300,
    ) -> dict[str, str]:
        """Stage a launch; returns the login-initiation parameters the LMS sends to the tool."""
        login_hint = secrets.token_urlsafe(8)
        message_hint = secrets.token_urlsafe(8)
        self._staged[message_hint] = {
            "member": member,
            "course_id": course_id,
            "message_type": message_type,
            "custom": custom or {},
            "resource_link_id": resource_link_id,
            "lineitem": lineitem,
            "claims": claims or {},
            "signing": signing,
            "expires_in": expires_in,
            "login_hint": login_hint,
        }
        return {
            "iss": self.issuer,
            "login_hint": login_hint,
            "lti_message_hint": message_hint,
            "target_link_uri": self.tool_launch_url,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def id_token(self, query: dict[str, str]) -> tuple[str, str, str]:
        """The OIDC authentication response: (id_token, state, redirect_uri) for a staged launch."""
        staged = self._staged[query["lti_message_hint"]]
        if query.get("login_hint") != staged["login_hint"] or query.get("client_id") != self.client_id:
            raise ValueError("login_hint or client_id does not match the staged launch")
        if query.get("response_type") != "id_token" or query.get("scope") != "openid":
            raise ValueError("not an OIDC implicit-flow request")
        member: Member = staged["member"]
        course = self.courses[staged["course_id"]]
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": member.sub,
            "iat": now,
            "exp": now + staged["expires_in"],
            "nonce": query["nonce"],
            "name": member.name,
            "email": member.email,
            "given_name": member.name.split()[0],
            "family_name": member.name.split()[-1],
            LTI + "message_type": staged["message_type"],
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.tool_launch_url,
            LTI + "roles": member.roles,
            LTI + "context": {
                "id": course.id,
                "label": course.id.upper(),
                "title": course.title,
                "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            },
            LTI + "custom": staged["custom"],
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": AGS_SCOPES,
                "lineitems": f"{self.url}/courses/{course.id}/lineitems",
                **({"lineitem": staged["lineitem"]} if staged["lineitem"] else {}),
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": f"{self.url}/courses/{course.id}/memberships",
                "service_versions": ["2.0"],
            },
        }
        if staged["message_type"] == "LtiResourceLinkRequest":
            body[LTI + "resource_link"] = {"id": staged["resource_link_id"], "title": "MLRange"}
        else:
            body["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": f"{self.url}/deep_link_return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "accept_multiple": True,
                "data": "opaque-platform-data",
            }
        body.update(staged["claims"])
        headers = {"kid": self.kid}
        if staged["signing"] == "none":
            token = jwt.encode(body, None, algorithm="none")
        elif staged["signing"] == "other":
            token = jwt.encode(body, self.other_key, algorithm="RS256", headers=headers)
        else:
            token = jwt.encode(body, self.key, algorithm="RS256", headers=headers)
        return token, query["state"], query["redirect_uri"]

    # -- services ------------------------------------------------------------------------
    def _tool_key(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = requests.get(self.tool_jwks_url, timeout=10).json()["keys"]
        for jwk in keys:
            if jwk.get("kid") == kid:
                return RSAAlgorithm.from_jwk(json.dumps(jwk))
        raise ValueError(f"the tool's JWKS has no key {kid!r}")

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "client_credentials":
            raise ValueError("grant_type must be client_credentials")
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise ValueError("a JWT client assertion is required")
        assertion = form["client_assertion"]
        claims = jwt.decode(
            assertion, self._tool_key(assertion), algorithms=["RS256"], audience=self.token_url
        )
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            raise ValueError("the assertion is not from the registered client")
        token = secrets.token_urlsafe(24)
        scopes = form.get("scope", "").split()
        with self._lock:
            self.tokens[token] = scopes
            self.token_requests += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(scopes)}

    def verify_deep_link(self, token: str) -> list[dict[str, Any]]:
        claims = jwt.decode(token, self._tool_key(token), algorithms=["RS256"], audience=self.issuer)
        if claims["iss"] != self.client_id:
            raise ValueError("deep-linking response from another client")
        if claims[LTI + "message_type"] != "LtiDeepLinkingResponse":
            raise ValueError("not a deep-linking response")
        if claims[LTI + "deployment_id"] != self.deployment_id:
            raise ValueError("wrong deployment")
        if claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/data") != "opaque-platform-data":
            raise ValueError("the platform's data claim was not returned")
        items: list[dict[str, Any]] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
        for item in items:
            if "lineItem" in item:
                course_id = next(iter(self.courses))
                self._create_lineitem(course_id, {**item["lineItem"], "label": item["lineItem"]["label"]})
        self.deep_link_items.extend(items)
        return items

    def _create_lineitem(self, course_id: str, data: dict[str, Any]) -> dict[str, Any]:
        item_id = f"{self.url}/courses/{course_id}/lineitems/{uuid.uuid4().hex[:8]}"
        item = {"id": item_id, **{k: v for k, v in data.items() if k != "id"}}
        with self._lock:
            self.lineitems[item_id] = item
        return item

    def lineitems_of(self, course_id: str) -> list[dict[str, Any]]:
        prefix = f"{self.url}/courses/{course_id}/lineitems/"
        return [item for item_id, item in self.lineitems.items() if item_id.startswith(prefix)]


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the stdlib's name
            pass

        def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            if "json" in self.headers.get("Content-Type", ""):
                return json.loads(raw or "{}")
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def _scopes(self) -> list[str] | None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return None
            return platform.tokens.get(auth.removeprefix("Bearer "))

        def do_GET(self) -> None:  # noqa: PLR0911 -- one return per endpoint, as a router reads
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            path = parts.path
            if path == "/jwks":
                return self._send(200, platform.jwks())
            if path == "/auth":
                try:
                    token, state, redirect_uri = platform.id_token(query)
                except (KeyError, ValueError) as error:
                    return self._send(400, {"error": "invalid_request", "error_description": str(error)})
                page = (
                    f'<!doctype html><form id="f" method="post" action="{html.escape(redirect_uri)}">'
                    f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
                    f'<input type="hidden" name="state" value="{html.escape(state)}">'
                    '<button type="submit">Continue</button></form>'
                    "<script>document.getElementById('f').submit()</script>"
                )
                return self._send(200, page, "text/html")
            if path.startswith("/course/"):
                params = platform.prepare_launch(**platform.course_page_launches[path])
                src = html.escape(platform.tool_login_url + "?" + urlencode(params))
                page = (
                    "<!doctype html><title>LMS course</title><h1>Course page</h1>"
                    f'<iframe id="tool" title="MLRange" src="{src}" width="1000" height="700"></iframe>'
                )
                return self._send(200, page, "text/html")
            if platform.is_down:
                return self._send(503, {"error": "maintenance"})
            scopes = self._scopes()
            if scopes is None:
                return self._send(401, {"error": "invalid_token"})
            segments = path.strip("/").split("/")
            if len(segments) == 3 and segments[0] == "courses" and segments[2] == "lineitems":
                items = platform.lineitems_of(segments[1])
                if "resource_id" in query:
                    items = [i for i in items if i.get("resourceId") == query["resource_id"]]
                return self._send(200, items, "application/vnd.ims.lis.v2.lineitemcontainer+json")
            if len(segments) == 3 and segments[0] == "courses" and segments[2] == "memberships":
                if NRPS_SCOPE not in scopes:
                    return self._send(403, {"error": "insufficient_scope"})
                course = platform.courses[segments[1]]
                body = {
                    "id": f"{platform.url}{path}",
                    "context": {"id": course.id, "title": course.title},
                    "members": [
                        {
                            "user_id": m.sub,
                            "name": m.name,
                            "email": m.email,
                            "roles": m.roles,
                            "status": m.status,
                        }
                        for m in course.members
                    ],
                }
                return self._send(200, body, "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
            return self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: PLR0911 -- one return per endpoint, as a router reads
            path = urlsplit(self.path).path
            form = self._form()
            if path == "/token":
                try:
                    return self._send(200, platform.issue_token(form))
                except (KeyError, ValueError, jwt.InvalidTokenError) as error:
                    return self._send(400, {"error": "invalid_client", "error_description": str(error)})
            if path == "/deep_link_return":
                try:
                    items = platform.verify_deep_link(form["JWT"])
                except (KeyError, ValueError, jwt.InvalidTokenError) as error:
                    return self._send(
                        400, f"<p id='result'>rejected: {html.escape(str(error))}</p>", "text/html"
                    )
                titles = ", ".join(html.escape(i.get("title", "")) for i in items)
                return self._send(200, f"<p id='result'>added: {titles}</p>", "text/html")
            if platform.is_down:
                return self._send(503, {"error": "maintenance"})
            scopes = self._scopes()
            if scopes is None:
                return self._send(401, {"error": "invalid_token"})
            segments = path.strip("/").split("/")
            if len(segments) == 3 and segments[2] == "lineitems":
                if AGS_SCOPES[0] not in scopes:
                    return self._send(403, {"error": "insufficient_scope"})
                item = platform._create_lineitem(segments[1], form)
                return self._send(201, item, "application/vnd.ims.lis.v2.lineitem+json")
            if len(segments) == 5 and segments[2] == "lineitems" and segments[4] == "scores":
                item_id = f"{platform.url}/{'/'.join(segments[:4])}"
                if AGS_SCOPES[2] not in scopes or item_id not in platform.lineitems:
                    return self._send(404 if item_id not in platform.lineitems else 403, {"error": "no"})
                required = (
                    "userId",
                    "scoreGiven",
                    "scoreMaximum",
                    "activityProgress",
                    "gradingProgress",
                    "timestamp",
                )
                if any(name not in form for name in required):
                    return self._send(400, {"error": "incomplete score"})
                with platform._lock:
                    platform.scores.append({"lineitem": item_id, **form})
                return self._send(204, "")
            return self._send(404, {"error": "not found"})

    return Handler
