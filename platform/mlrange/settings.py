"""Settings, all from the environment (12-factor), with embedded defaults for a laptop.

Defaults: SQLite file and filesystem Celery queue under `var/`, DEBUG off. A local run
(`make run`, the tests) sets DEBUG=1, and then a secret key is generated once into `var/`.
Production leaves DEBUG off and sets SECRET_KEY, DATABASE_URL and CELERY_BROKER_URL (see
docker-compose.yml).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("MLRANGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Off unless set: `make` targets and the test settings (mlrange.settings_test) set DEBUG=1.
DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    key: str = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off MLRange refuses to start without one: "
            "set SECRET_KEY in the environment (for example from `python -c "
            "'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return str(key_file.read_text().strip())


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies of ours stand in front of the web server, each appending to
# X-Forwarded-For. 0: the header is ignored (a client can write anything in it). Throttles
# and login lockout key on the address this gives (mlrange.common.clientip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mlrange.common",
    "mlrange.accounts",
    "mlrange.catalog",
    "mlrange.assessments",
    "mlrange.labs",
    "mlrange.progress",
    "mlrange.ops",
    "lti_tool",  # django-lti: registrations, deployments, the tool's keys (mlrange.lti)
    "mlrange.lti",
    "mlrange.sso",
]

MIDDLEWARE = [
    "mlrange.ops.middleware.RequestMetricsMiddleware",  # outermost: times the whole stack
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions, after CSP: LMS framing and Partitioned (CHIPS) cookies for LTI launches.
    "mlrange.lti.middleware.LtiEmbedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login that django-axes refused into its lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mlrange.urls"
WSGI_APPLICATION = "mlrange.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mlrange.common.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mlrange.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a real Celery worker started by a test sees the test database.
    # Per process, so that two test runs on one machine never share a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-mlrange-{os.getpid()}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The cache holds API throttle counts: processes that share it share the limits. Per process
# by default; production points every web process at one Redis (e.g. redis://redis:6379/2).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Content Security Policy (django-csp): scripts and styles only from our own static files, no
# inline script, style or event handler anywhere (templates load static JS; htmx's injected
# styles and eval are off in base.html). Report-only when CSP_REPORT_ONLY=1.
_CSP_SELF = "'self'"
_CSP = {
    "DIRECTIVES": {
        "default-src": [_CSP_SELF],
        "script-src": [_CSP_SELF],
        "style-src": [_CSP_SELF],
        "img-src": [_CSP_SELF, "data:"],
        "font-src": [_CSP_SELF],
        "connect-src": [_CSP_SELF],
        "object-src": ["'none'"],
        "base-uri": [_CSP_SELF],
        "form-action": [_CSP_SELF],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# Failed logins (login page, admin, API token) counted per username and client address by
# django-axes; at LOGIN_FAILURE_LIMIT the pair is locked for LOGIN_LOCKOUT_MINUTES (429).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
# Per username and address: a class behind one NAT address is not locked out by one learner's
# typos, and a guesser who rotates X-Forwarded-For still has one address (TRUSTED_PROXY_COUNT).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "mlrange.common.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mlrange.accounts.views.locked_out"  # 429 page with Retry-After
AXES_VERBOSE = False
# A new or expired API token is issued at /api/v1/auth/token/; unset: tokens never expire.
TOKEN_TTL_HOURS = env.float("TOKEN_TTL_HOURS", default=None)

# Single sign-on through an organisation's OpenID Connect provider (mlrange.sso, README "Single
# sign-on"). Off unless both SSO_OIDC_ISSUER and SSO_OIDC_CLIENT_ID are set: then the login page
# offers "Sign in with SSO_DISPLAY_NAME" beside the local login, which keeps working.
SSO_OIDC_ISSUER = env.str("SSO_OIDC_ISSUER", default="")
SSO_OIDC_CLIENT_ID = env.str("SSO_OIDC_CLIENT_ID", default="")
SSO_OIDC_CLIENT_SECRET = env.str("SSO_OIDC_CLIENT_SECRET", default="")
if bool(SSO_OIDC_ISSUER) != bool(SSO_OIDC_CLIENT_ID):
    raise ImproperlyConfigured(
        "Single sign-on needs both SSO_OIDC_ISSUER and SSO_OIDC_CLIENT_ID (or neither, to leave it off)."
    )
# Default: the issuer's /.well-known/openid-configuration. Or give the three endpoints below
# (authorization, token, JWKS) and no discovery document is fetched.
SSO_OIDC_DISCOVERY_URL = env.str("SSO_OIDC_DISCOVERY_URL", default="")
SSO_OIDC_AUTHORIZATION_ENDPOINT = env.str("SSO_OIDC_AUTHORIZATION_ENDPOINT", default="")
SSO_OIDC_TOKEN_ENDPOINT = env.str("SSO_OIDC_TOKEN_ENDPOINT", default="")
SSO_OIDC_JWKS_URI = env.str("SSO_OIDC_JWKS_URI", default="")
SSO_OIDC_USERINFO_ENDPOINT = env.str("SSO_OIDC_USERINFO_ENDPOINT", default="")
SSO_OIDC_END_SESSION_ENDPOINT = env.str("SSO_OIDC_END_SESSION_ENDPOINT", default="")
SSO_OIDC_SCOPES = env.list("SSO_OIDC_SCOPES", default=["openid", "email", "profile"])
SSO_DISPLAY_NAME = env.str("SSO_DISPLAY_NAME", default="your organisation")
# Empty: any domain. Otherwise a sign-in whose verified email is at none of these is refused.
SSO_ALLOWED_EMAIL_DOMAINS = env.list("SSO_ALLOWED_EMAIL_DOMAINS", default=[])
SSO_CREATE_USERS = env.bool("SSO_CREATE_USERS", default=True)
# Only for a provider that sends no email_verified claim and whose administrators alone set
# users' emails (a single-tenant Entra ID): its emails are then taken as verified.
SSO_TRUST_PROVIDER_EMAIL = env.bool("SSO_TRUST_PROVIDER_EMAIL", default=False)
# Logging out of MLRange also ends the session at the provider (its end_session_endpoint).
SSO_LOGOUT_AT_PROVIDER = env.bool("SSO_LOGOUT_AT_PROVIDER", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule on passwords: revokes the user's API tokens whenever the password changes.
    {"NAME": "mlrange.accounts.password_hooks.RevokeTokensOnPasswordChange"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous API callers get 401 with a WWW-Authenticate header, not 403.
        "mlrange.accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # drf-spectacular's, plus the 4xx each operation can give (mlrange.common.schema).
    "DEFAULT_SCHEMA_CLASS": "mlrange.common.schema.MLRangeAutoSchema",
    "EXCEPTION_HANDLER": "mlrange.common.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Without DEFAULT_THROTTLE_CLASSES, DRF never applies the rates below. Every throttle keys
    # on mlrange.common.clientip (X-Forwarded-For only behind TRUSTED_PROXY_COUNT proxies).
    "DEFAULT_THROTTLE_CLASSES": [
        "mlrange.common.throttling.AnonThrottle",
        "mlrange.common.throttling.UserThrottle",
        "mlrange.common.throttling.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        # Scoped (views' `throttle_scope`): password guesses, lab submissions, quiz answers.
        "auth": env.str("API_THROTTLE_AUTH", default="10/min"),
        "submissions": env.str("API_THROTTLE_SUBMISSIONS", default="60/min"),
        "answers": env.str("API_THROTTLE_ANSWERS", default="120/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MLRange API",
    "DESCRIPTION": "Levels, learning paths, quizzes, sandboxed labs and progress of MLRange.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several `status` fields, each its own choice set: each enum gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "mlrange.labs.models.Submission.Status",
    },
}

# Celery: the embedded default is a filesystem queue under var/queue: kombu's filesystem
# transport with atomic publishes and a quarantine for malformed files (mlrange.common.fsqueue).
QUEUE_DIR = Path(env.str("MLRANGE_QUEUE_DIR", default=str(VAR_DIR / "queue")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control", "staging", "rejected"):
        (QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT = "mlrange.common.fsqueue:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(QUEUE_DIR / "in"),
        "data_folder_out": str(QUEUE_DIR / "in"),
        "processed_folder": str(QUEUE_DIR / "processed"),
        "control_folder": str(QUEUE_DIR / "control"),
        # Same filesystem as in/: a message is written here, then renamed into in/ whole.
        "staging_folder": str(QUEUE_DIR / "staging"),
        "rejected_folder": str(QUEUE_DIR / "rejected"),
        "store_processed": False,
        # How often an idle worker looks for work: 5 ms halves the queue hop of a lab run
        # (20 -> 9 ms median) for ~1.5% of a core while idle (bench/RESULTS.md).
        "polling_interval": 0.005,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"mlrange.labs.tasks.submission_execute_task": {"queue": "labs"}}
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-submissions": {"task": "mlrange.labs.tasks.submissions_sweep_task", "schedule": 30.0},
    "expire-overdue-attempts": {"task": "mlrange.assessments.tasks.attempts_expire_task", "schedule": 60.0},
}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=330)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Content
CURRICULUM_DIR = Path(env.str("MLRANGE_CURRICULUM_DIR", default=str(BASE_DIR / "curriculum")))
LABS_DIR = Path(env.str("MLRANGE_LABS_DIR", default=str(BASE_DIR / "labs")))
ATLAS_DATA_FILE = CURRICULUM_DIR / "reference" / "mitre-atlas-5.6.0.yaml"

# Sandbox (see mlrange.sandbox): a separate world-readable virtualenv runs kernels and graders.
SANDBOX_RUNTIME = Path(env.str("MLRANGE_RUNTIME", default="/opt/mlrange/runtime"))
SANDBOX_RUN_DIR = Path(env.str("MLRANGE_SANDBOX_RUN_DIR", default="/tmp/mlrange-sandbox"))  # noqa: S108 -- short path: ZMQ ipc socket paths must stay under 107 bytes; the sandbox code creates it 0711 and per-run dirs 0700
SANDBOX_ASSETS_DIR = Path(env.str("MLRANGE_ASSETS_DIR", default=str(SANDBOX_RUNTIME.parent / "lab-assets")))
SANDBOX_POOL_SIZE = env.int("MLRANGE_POOL_SIZE", default=2)
# A ceiling on every lab's own wall-clock limit (labs set theirs in their manifest).
SANDBOX_EXEC_TIMEOUT = env.float("MLRANGE_EXEC_TIMEOUT", default=600.0)
# The most memory one execution may hold (all its processes, tmpfs and shared-memory pages):
# warm kernels wait under this, and a lab's own manifest `memory_mb` (never above it) applies
# when one is handed over. Also RLIMIT_AS per process.
SANDBOX_MEMORY_MB = env.int("MLRANGE_SANDBOX_MEMORY_MB", default=4096)
# `cgroup` (default): each execution in its own cgroup (memory, processes, CPU); labs refuse to
# run where none can be created. `single-user`: rlimits only, for a machine with one learner.
SANDBOX_ISOLATION = env.str("MLRANGE_SANDBOX_ISOLATION", default="cgroup")
SANDBOX_CPU_CORES = env.float("MLRANGE_SANDBOX_CPU_CORES", default=1.0)  # CPU quota per execution
SANDBOX_MAX_PROCESSES = env.int("MLRANGE_SANDBOX_MAX_PROCESSES", default=64)  # per execution
# Fork warm kernels from a template that imported the preload once (~0.07 s a kernel instead of
# ~1 CPU-s); needs the cgroup isolation. Off: every kernel starts in a fresh jail.
SANDBOX_KERNEL_TEMPLATE = env.bool("MLRANGE_KERNEL_TEMPLATE", default=True)
# The pool grows towards this many ready kernels per profile while submissions wait.
SANDBOX_POOL_MAX = env.int("MLRANGE_POOL_MAX", default=6)
SANDBOX_OUTPUT_LIMIT = env.int("MLRANGE_OUTPUT_LIMIT", default=1_000_000)
# pyplot too: +29 MiB in each template (shared by its kernels), a first figure in 0.55 s not 1.1 s.
SANDBOX_PRELOAD = env.str("MLRANGE_PRELOAD", default="import numpy, torch, matplotlib.pyplot")
# Labs whose manifest says `kernel: light` get kernels that preload only this.
SANDBOX_LIGHT_PRELOAD = env.str("MLRANGE_LIGHT_PRELOAD", default="import numpy")
SANDBOX_WARM_ON_START = env.bool("MLRANGE_WARM_POOL", default=True)
# A worker on its own machine builds (or verifies: a no-op when up to date) every lab's assets
# before it takes work; `make run` builds them beforehand instead.
SANDBOX_BUILD_ASSETS_ON_START = env.bool("MLRANGE_BUILD_ASSETS_ON_START", default=False)
LABS_MAX_IN_FLIGHT = env.int("MLRANGE_MAX_IN_FLIGHT", default=3)
# Graded submissions per learner and lab in a sliding hour: each graded report tells a few
# bits about held-out data, so their number is bounded (429 with the time to retry).
LABS_GRADES_PER_HOUR = env.int("MLRANGE_GRADES_PER_HOUR", default=30)
LABS_SUBMISSION_DEADLINE = env.int("MLRANGE_SUBMISSION_DEADLINE", default=600)
LABS_MAX_CODE_BYTES = env.int("MLRANGE_MAX_CODE_BYTES", default=200_000)
LABS_MAX_NOTEBOOK_BYTES = env.int("MLRANGE_MAX_NOTEBOOK_BYTES", default=2_000_000)

# Observability: Prometheus metrics at /metrics (see mlrange.ops.exposition), JSON logs.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=False)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")  # when set, scrapes need "Authorization: Bearer ..."
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)  # a Celery worker serves its pool's metrics
METRICS_WORKER_ADDR = env.str("METRICS_WORKER_ADDR", default="0.0.0.0")  # noqa: S104 -- opt-in port, token applies
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "mlrange.ops.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes: lockouts are warnings; its INFO line for every login is noise.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# LTI 1.3 (mlrange.lti): an LMS shows MLRange in an iframe, where browsers send only cookies
# marked SameSite=None; Secure. Secure cookies need HTTPS (browsers except localhost), so this is
# on by default only with DEBUG off. LTI_EMBED=0 keeps the session and CSRF cookies SameSite=Lax
# (launches from an LMS iframe then offer to open in a new window).
LTI_EMBED = env.bool("LTI_EMBED", default=not DEBUG)
if LTI_EMBED:
    SESSION_COOKIE_SAMESITE = "None"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SECURE = True
# Scores that could not reach an LMS gradebook are retried this often (the outbox sweep).
CELERY_BEAT_SCHEDULE["lti-send-scores"] = {
    "task": "mlrange.lti.tasks.score_sends_sweep_task",
    "schedule": 60.0,
}
