"""One settings module, driven by the environment.

With nothing set it runs the demo: SQLite, Celery on the filesystem and mail written
to files, all under var/. Production sets DATABASE_URL, REDIS_URL, EMAIL_URL,
SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="demo-only-not-secret-change-me-in-production")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "mptt",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the app: no CDN
    "tickets",
    "escalation",
    "mailgateway",
    "integrations",
    "automations",
    "api",
    "billing",
    "reports",
    "processes",
    "sms",
    # Measures and bulk-loads every app at once, so it is an app of its own beside them.
    "benchmark",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tickets.middleware.PortalContentSecurityPolicy",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

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
                "escalation.context_processors.unseen_notifications",
            ],
        },
    },
]

# SQLite is the embedded default. WAL lets the web process read while the Celery worker
# writes; IMMEDIATE transactions and a busy timeout make concurrent writers queue up
# instead of failing with "database is locked".
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The reports' covering indexes (INCLUDE) are plain indexes here: fine for the
    # embedded database, and not worth a warning on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # The planner's settings for this workload (POSTGRES_OPTIONS replaces them):
    # - JIT off: it compiles any query costed high — the reports' year-long aggregates —
    #   and spent 3.6 s compiling a 1.4 s analysis at a million requests.
    # - Parallel workers only for big scans: starting two took the dashboard's open counts
    #   from 15 to 40 ms, and under load the web workers need the cores; the reports'
    #   year-long scans still get them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", env.str("POSTGRES_OPTIONS", default="-c jit=off -c parallel_setup_cost=10000")
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
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

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/desk/"
LOGOUT_REDIRECT_URL = "login"

# The portal faces the public, so its pages get a strict Content Security Policy: only our
# own static files, no inline script or style. Applied to /portal/ only (see
# tickets.middleware); the desk and the admin keep their inline confirm() handlers.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        # the browsable API and the docs, for a signed-in agent (with CSRF on writes)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_details",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
}
# How long an article's author may still correct its time units.
TIME_UNITS_CORRECTABLE_MINUTES = env.int("TIME_UNITS_CORRECTABLE_MINUTES", default=60)
# SMS: the longest text an agent may send, in messages of the network (a long SMS is
# several, each charged), and the country a number without +country code is read in
# (ISO 3166 code, e.g. "DE"; empty: every number needs its country code).
SMS_MAX_SEGMENTS = env.int("SMS_MAX_SEGMENTS", default=6)
SMS_DEFAULT_REGION = env.str("SMS_DEFAULT_REGION", default="")
# Delivery (the sms app's outbox): SMS_BACKEND names the class that sends, by default one
# JSON file per SMS under var/sms so the demo's texts can be read; "sms.backends.HttpBackend"
# posts to a Twilio-style API at SMS_HTTP_URL with SMS_HTTP_ACCOUNT and SMS_HTTP_TOKEN
# (Basic auth), from SMS_SENDER (our number or sender id), asking for status callbacks at
# SMS_STATUS_CALLBACK_URL (the absolute URL of /sms/status/; empty: none).
SMS_BACKEND = env.str("SMS_BACKEND", default="sms.backends.FileBackend")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms")))
SMS_SENDER = env.str("SMS_SENDER", default="")
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_ACCOUNT = env.str("SMS_HTTP_ACCOUNT", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_STATUS_CALLBACK_URL = env.str("SMS_STATUS_CALLBACK_URL", default="")
# The provider's webhooks (/sms/inbound/, /sms/status/) are signed with this, as our own
# webhooks are (integrations.webhooks); empty: both are refused.
SMS_WEBHOOK_SECRET = env.str("SMS_WEBHOOK_SECRET", default="")
# The queue a request opened by SMS goes to (its name; empty: "Support", seed_demo's).
SMS_QUEUE = env.str("SMS_QUEUE", default="")
# Calls a token (or a signed-in user) may make: "<n>/<second|minute|hour|day>".
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
        "api.schema.expanded_rows",
    ],
    # `fields=` may leave any field out of an answer.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    # Inputs apart from answers, so an input says what it needs (a subject not blank).
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set of the domain (not one per field that uses it).
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "tickets.models.Level",
        "BaseStatusEnum": "tickets.models.Status.Base",
        "MessageKindEnum": "tickets.models.Message.Kind",
        "CustomFieldKindEnum": "tickets.models.CustomField.Kind",
    },
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its select arrows and toggler icons as data: SVGs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: EMAIL_URL (smtp://user:password@host:587/?tls=True, consolemail://, filemail://...)
# or, by default, one file per message under var/mail so the demo's sent mail can be read.
# Every mail is stored in the outbox first (mailgateway.outbox), which sends it through
# that backend and retries what fails.
if "EMAIL_URL" in env:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
OUTBOX_BACKEND = EMAIL_BACKEND
EMAIL_BACKEND = "mailgateway.outbox.OutboxBackend"
# A mail server that stops answering must not hold a worker for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="support@helpdesk.localhost")
# The address customers and agents reach the helpdesk at, for links in mail.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Production security. Served over https (SITE_URL says so, or SECURE=1): browsers are told
# to come back over https only (HSTS, for SECURE_HSTS_SECONDS), plain http is redirected,
# and the session and CSRF cookies never travel unencrypted. `manage.py check --deploy`
# is clean so (tests/test_settings.py). Behind a proxy that ends TLS, name the header it
# sets: SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https" (only then: a client could
# send it itself).
SECURE = env.bool("SECURE", default=SITE_URL.startswith("https://"))
if SECURE:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    # Both on, as `check --deploy` asks; a site sharing its domain with http-only
    # neighbours turns them off.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if _proxy_header := env.str("SECURE_PROXY_SSL_HEADER", default=""):
    _name, _, _value = _proxy_header.partition(":")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
# The address people use is always a host this site answers to and an origin its forms
# come from (behind a proxy, what Django sees of the request can differ).
_site = urlsplit(SITE_URL)
if _site.hostname and _site.hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site.hostname)
CSRF_TRUSTED_ORIGINS.append(f"{_site.scheme}://{_site.netloc}")
# Production must not run on the demo's key by accident (a key set on purpose is the
# operator's choice; `check --deploy` still calls a weak one weak).
if not DEBUG and "SECRET_KEY" not in env:
    raise ImproperlyConfigured(
        "DEBUG=0 needs a SECRET_KEY of its own: set it to a long random string "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )
# Escalation webhooks are signed with this (HMAC-SHA256); receivers need the same value.
ESCALATION_WEBHOOK_SECRET = env.str("ESCALATION_WEBHOOK_SECRET", default="")
ESCALATION_WEBHOOK_TIMEOUT = env.float("ESCALATION_WEBHOOK_TIMEOUT", default=5.0)
# Every call to another server (integrations.http): its time limit in all, the most of
# an answer it reads, and a CA bundle for servers with certificates of an internal CA
# (empty: the public CAs).
OUTBOUND_HTTP_TIMEOUT = env.float("OUTBOUND_HTTP_TIMEOUT", default=10.0)
OUTBOUND_HTTP_MAX_RESPONSE_BYTES = env.int("OUTBOUND_HTTP_MAX_RESPONSE_BYTES", default=2**20)
OUTBOUND_HTTP_CA_BUNDLE = env.str("OUTBOUND_HTTP_CA_BUNDLE", default="")
# Uploads and inbound attachments larger than this are refused with a message.
# Billing: invoice and credit note numbers (tickets.numbering schemes), the currency of a
# free-text charge, how amounts are written, and the seller until an invoice template says.
INVOICE_NUMBERING = env.str("INVOICE_NUMBERING", default="INV-{year}-{seq:05}")
CREDIT_NOTE_NUMBERING = env.str("CREDIT_NOTE_NUMBERING", default="CN-{year}-{seq:05}")
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="EUR")
BILLING_LOCALE = env.str("BILLING_LOCALE", default="en_IE")
BILLING_SELLER = env.str("BILLING_SELLER", default="Helpdesk Ltd.")
MAX_ATTACHMENT_BYTES = env.int("MAX_ATTACHMENT_BYTES", default=25 * 2**20)
# How many files one portal message may carry.
MAX_ATTACHMENTS_PER_MESSAGE = env.int("MAX_ATTACHMENTS_PER_MESSAGE", default=10)
# The domain of the Message-IDs the helpdesk makes, so replies can be threaded.
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default="helpdesk.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport under var/
# so the demo's worker and beat need nothing but Python.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = None
else:
    CELERY_BROKER_URL = "filesystem://"
    _celery_queue_dir = VAR_DIR / "celery" / "queue"
    _celery_queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_queue_dir),
        "data_folder_out": str(_celery_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
# The cache holds the portal's sign-in and reset rate limits, so every web process must
# share it: Redis when configured, otherwise the demo's single process keeps it in memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# With Redis, sessions are read from it and written through to the database: one query
# less on every page, and sessions survive a flushed cache.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
