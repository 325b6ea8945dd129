"""condorweb settings: one file, read from the environment.

Every variable is documented in README.md. Helpers in ``condorweb.env``
refuse bad values at start-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from condor.workers import Settings as CondorSettings
from condorweb.env import (
    ImproperEnvironment,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("CONDORWEB_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    configured = env_str("CONDORWEB_SECRET_KEY")
    if configured:
        if len(configured) < 50:
            raise ImproperEnvironment("CONDORWEB_SECRET_KEY must be at least 50 characters.")
        return configured
    # A fresh checkout gets a key generated once and kept out of git.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("CONDORWEB_DEBUG", False)
ALLOWED_HOSTS = env_list("CONDORWEB_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CONDORWEB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "huey.contrib.djhuey",
    "engine",
    "daemons",
    "configview",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "condorweb.login.LoginRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "condorweb.urls"
ASGI_APPLICATION = "condorweb.asgi.application"
WSGI_APPLICATION = "condorweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL")
DB_POOL_SIZE = env_int("CONDORWEB_DB_POOL_SIZE", 10, minimum=1, maximum=1000)
DB_POOL_TIMEOUT = env_float("CONDORWEB_DB_POOL_TIMEOUT", 10.0, minimum=0.1)
if DATABASE_URL:
    try:
        # No persistent connections (under ASGI each request runs in a thread of
        # its own, so a kept connection is never reused, only left open).
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    except ValueError as exc:
        raise ImproperEnvironment(f"DATABASE_URL is not a database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A pool instead: opening a PostgreSQL connection costs more than most
        # queries, and every request and websocket handshake would pay it
        # (200 log viewers connecting at once missed daphne's handshake timeout).
        # Each connection is checked as the pool hands it out, so a PostgreSQL
        # restart costs failed checks, not errors on dead pooled connections.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": DB_POOL_SIZE,
            "timeout": DB_POOL_TIMEOUT,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # The console writes from several threads (fetch jobs, refreshes);
            # wait for a lock rather than fail at once. WAL lets pages read while
            # a refresh writes, and with synchronous=NORMAL a commit costs no
            # fsync (about 15 ms each otherwise; a command writes its audit row
            # twice): a power cut may lose the last commits, never the database.
            "OPTIONS": {
                "timeout": env_float("CONDORWEB_SQLITE_TIMEOUT", 5.0, minimum=0.1),
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperEnvironment("REDIS_URL must be a redis://, rediss:// or unix:// URL.")
REDIS_TIMEOUT = env_float("CONDORWEB_REDIS_TIMEOUT", 5.0, minimum=0.1)
if REDIS_URL:
    from channels_redis.core import RedisChannelLayer

    # Each process waits for its consumers' messages with a blocking pop of
    # brpop_timeout (5 s). redis-py's default read timeout is also 5 s, so on a
    # busy process the read gave up first and closed every consumer waiting on
    # it with 1011; a read may take the pop's time plus the configured margin.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": REDIS_TIMEOUT,
                        "socket_timeout": RedisChannelLayer.brpop_timeout + REDIS_TIMEOUT,
                    }
                ],
                "capacity": 2000,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "condorweb.layers.SweepingInMemoryChannelLayer", "CONFIG": {"capacity": 2000}}
    }

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "daemons:pool_list"
LOGOUT_REDIRECT_URL = "login"

# Login rate limiting (django-axes): lock a username+address pair after
# repeated failures instead of writing our own counter.
AXES_FAILURE_LIMIT = env_int("CONDORWEB_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_float("CONDORWEB_LOGIN_COOLOFF_HOURS", 0.25, minimum=0.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("CONDORWEB_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# A deployment names where collectstatic writes; from then on pages link the
# hashed, compressed copies. A fresh checkout serves static/ as it is, through
# whitenoise's finders, with nothing to collect first.
_DEPLOYED_STATIC_ROOT = env_str("CONDORWEB_STATIC_ROOT")
# Under DATA_DIR, not the checkout: the console need not write where its code lives.
STATIC_ROOT = Path(_DEPLOYED_STATIC_ROOT or DATA_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _DEPLOYED_STATIC_ROOT
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _DEPLOYED_STATIC_ROOT
WHITENOISE_AUTOREFRESH = DEBUG

# Behind TLS (CONDORWEB_HTTPS=1) every cookie and header on Django's
# deployment checklist is switched on.
HTTPS = env_bool("CONDORWEB_HTTPS", False)
# A deployed console (CONDORWEB_HTTPS=1) does not run as root: a flaw in it
# would then be root on the host, and nothing it does needs root (the dev
# pool's chroot does, and that is `make run`'s, not the server's). Set
# CONDORWEB_ALLOW_ROOT=1 only to run a one-off management command as root.
if HTTPS and os.geteuid() == 0 and not env_bool("CONDORWEB_ALLOW_ROOT", False):
    raise ImproperEnvironment(
        "condorweb refuses to run as root with CONDORWEB_HTTPS=1: run it as its own user "
        "(User=condorweb in its systemd unit, docs/deployment.md), or set CONDORWEB_ALLOW_ROOT=1 for a one-off command."
    )
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# The dev pool (`manage.py devpool`, root-only tooling) is not part of a deployment.
if not HTTPS:
    INSTALLED_APPS.append("devtools")
SECURE_SSL_REDIRECT = HTTPS and env_bool("CONDORWEB_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("CONDORWEB_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("CONDORWEB_HSTS_PRELOAD", False)
if env_bool("CONDORWEB_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Asking browsers to preload HSTS commits every subdomain of the site's domain,
# a decision for the domain's owner (CONDORWEB_HSTS_PRELOAD=1), not the console.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("CONDORWEB_SESSION_HOURS", 12, minimum=1) * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): only the console's own files run or
# style a page; no inline script, style or handler and no eval (htmx is told
# so by the htmx-config meta in templates/base.html); connect-src 'self' also
# allows the console's own ws:/wss: origin (CSP level 3), which the live log
# needs; no page may be framed. tests/security/test_content_security_policy.py checks
# the header and the templates; tests/browser/test_content_security_policy.py
# opens every page in Chromium and fails on any violation it reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every handler formats through RedactingFormatter and filters through
    # OneLineRefusals (condorweb/logfilters.py): no live share token in any
    # line, one line per refused request.
    "formatters": {
        "plain": {
            "()": "condorweb.logfilters.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"refusals": {"()": "condorweb.logfilters.OneLineRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env_str("CONDORWEB_LOG_LEVEL", "INFO")},
    # Huey logs every job it runs at INFO (each pool's refresh each minute): warnings and failures only.
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "huey": {"level": env_str("CONDORWEB_QUEUE_LOG_LEVEL", "WARNING")},
    },
}

# HTCondor access: the defaults are the condor package's own (condor/workers.py).
CONDORWEB_HTCONDOR_TIMEOUT = env_float("CONDORWEB_HTCONDOR_TIMEOUT", CondorSettings.timeout, minimum=0.5, maximum=600)
CONDORWEB_WORKERS_PER_POOL = env_int(
    "CONDORWEB_WORKERS_PER_POOL", CondorSettings.workers_per_pool, minimum=1, maximum=32
)
CONDORWEB_FETCH_WORKERS = env_int("CONDORWEB_FETCH_WORKERS", CondorSettings.fetch_workers, minimum=1, maximum=32)
# The task queue (Huey, docs/architecture.md): every kind of background work
# runs in `manage.py worker` processes. sqlite:///PATH is the embedded queue
# (one worker host; `make run`'s); redis://... is production's, for workers on
# several hosts; memory: only serves tests, which swap in their own storage.
CONDORWEB_QUEUE_URL = env_str("CONDORWEB_QUEUE_URL", f"sqlite:///{DATA_DIR / 'queue.sqlite3'}")
CONDORWEB_WORKER_THREADS = env_int("CONDORWEB_WORKER_THREADS", 8, minimum=1, maximum=256)
# Seconds between a worker's heartbeats; one silent for three of them counts as stopped.
CONDORWEB_WORKER_HEARTBEAT = env_float("CONDORWEB_WORKER_HEARTBEAT", 5.0, minimum=0.2, maximum=300)
# Every pool is refreshed this often by the workers, whether or not anyone looks.
CONDORWEB_WATCH_INTERVAL = env_float("CONDORWEB_WATCH_INTERVAL", 60.0, minimum=1.0, maximum=86_400)
# Jobs of one pool that run at once across all workers (refreshes, batches,
# fetches): the rest wait, so a silent pool holds at most this many threads.
CONDORWEB_POOL_CONCURRENCY = env_int("CONDORWEB_POOL_CONCURRENCY", 2, minimum=1, maximum=64)
# Bulk commands and fetches waiting for one pool at most; more are refused with a message.
CONDORWEB_POOL_QUEUE_LIMIT = env_int("CONDORWEB_POOL_QUEUE_LIMIT", 20, minimum=1, maximum=10_000)
if CONDORWEB_QUEUE_URL.startswith("sqlite:///"):
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "filename": CONDORWEB_QUEUE_URL.removeprefix("sqlite:///"),
        "timeout": env_float("CONDORWEB_SQLITE_TIMEOUT", 5.0, minimum=0.1),
    }
elif CONDORWEB_QUEUE_URL.startswith(("redis://", "rediss://", "unix://")):
    # The expiring storage: its locks expire (Redis 7.0 has no hash-field TTL),
    # so a lock a killed worker held is freed without anyone's help.
    HUEY = {"huey_class": "huey.RedisExpireHuey", "url": CONDORWEB_QUEUE_URL, "expire_time": 3600}
elif CONDORWEB_QUEUE_URL == "memory:":
    HUEY = {"huey_class": "huey.MemoryHuey"}
else:
    raise ImproperEnvironment(
        "CONDORWEB_QUEUE_URL must be sqlite:///PATH, a redis://, rediss:// or unix:// URL, or memory:."
    )
HUEY.update(
    name="condorweb",
    # Outcomes live in the console's own rows (audit, snapshots), not in the queue.
    results=False,
    immediate=False,
    utc=True,
    # An idle worker polls the embedded queue every 0.05-0.5 s (Huey's default
    # backs off to 10 s, which a job queued then would wait); Redis blocks instead.
    consumer={
        "workers": CONDORWEB_WORKER_THREADS,
        "worker_type": "thread",
        "periodic": True,
        "initial_delay": 0.05,
        "backoff": 1.15,
        "max_delay": 0.5,
    },
)
CONDORWEB_TIMELINE_DAYS = env_int("CONDORWEB_TIMELINE_DAYS", 90, minimum=1)
CONDORWEB_LOG_BACKLOG_LINES = env_int("CONDORWEB_LOG_BACKLOG_LINES", 500, minimum=0, maximum=100_000)
# A log download larger than this is refused with a message; below it a
# download costs one 64 KiB chunk of memory whatever its size.
CONDORWEB_LOG_DOWNLOAD_MAX_BYTES = env_int("CONDORWEB_LOG_DOWNLOAD_MAX_BYTES", 2 * 2**30, minimum=2**20)
CONDORWEB_FETCHLOG_INTERVAL = env_float("CONDORWEB_FETCHLOG_INTERVAL", 5.0, minimum=0.5)
# The site's own knobs to hide whatever their type, on top of configview/redaction.py's rule (which
# no setting weakens): e.g. *_ENVIRONMENT where jobs' environments carry secrets under other names.
CONDORWEB_REDACT_PATTERNS = env_list("CONDORWEB_REDACT_PATTERNS", [])
# The console host's own HTCondor configuration ("local" in diffs); blank: HTCondor's usual search.
CONDORWEB_LOCAL_CONDOR_CONFIG = env_str("CONDORWEB_LOCAL_CONDOR_CONFIG", env_str("CONDOR_CONFIG"))
CONDORWEB_TOOL_LOG = env_str("CONDORWEB_TOOL_LOG", str(DATA_DIR / "htcondor-client.log"))
