"""Settings for the helpdesk: embedded defaults, everything else from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from helpdesk.secret_key import local_secret_key, refuse_weak_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Production sets SECRET_KEY. Without it, a key generated once for this checkout and kept
# in var/ (never a key published in the source) lets a fresh clone, `make run` and the
# tests start; a weak or published key is refused unless DEBUG is on.
SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret_key(VAR_DIR / "secret_key")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
if not DEBUG:
    refuse_weak_secret_key(SECRET_KEY)
# Keys that encrypt stored credentials (mailbox passwords, tokens): Fernet keys, the first
# encrypts, all decrypt (rotation). By default derived from SECRET_KEY and its fallbacks.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "helpdesk.admin.HelpdeskAdminConfig",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "people",
    "tickets",
    "knowledge",
    "mailboxes",
    "sla",
    "surveys",
    "reports",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "people.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Turns a sign-in refused for too many failures into the 429 page (people.login).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'helpdesk.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE makes every
    # transaction take the write lock up front, so two writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: concurrency tests need real locking between connections.
    # One file per test run, so two runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Choice lists and small iterations in one round trip, not three (and pgbouncer-safe).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes): failures counted per account and, separately, per
# address (two counters, not the pair); each locks for AXES_COOLOFF_TIME at the limit.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_USERNAME_CALLABLE = "people.login.username_of"
AXES_CLIENT_IP_CALLABLE = "people.login.client_address"
AXES_LOCKOUT_CALLABLE = "people.login.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # failures only: no row per successful sign-in
# A lock-out ends on time even while someone keeps guessing (else anyone could keep an
# account locked for good by failing against it every few minutes).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt-br", _("Brazilian Portuguese")), ("pl", _("Polish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
TICKET_ATTACHMENT_MAX_BYTES = env.int("TICKET_ATTACHMENT_MAX_BYTES", default=50 * 1024 * 1024)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: written to files under var/mail by default, SMTP when EMAIL_URL says so
# (e.g. smtp://user:pass@host:587 or smtp+tls://...). Django 6.1 MAILERS form.
_email = env.email_url("EMAIL_URL", default="filemail://")
_email_options = {
    option: _email[key]
    for key, option in [
        ("EMAIL_HOST", "host"),
        ("EMAIL_PORT", "port"),
        ("EMAIL_HOST_USER", "username"),
        ("EMAIL_HOST_PASSWORD", "password"),
        ("EMAIL_USE_TLS", "use_tls"),
        ("EMAIL_USE_SSL", "use_ssl"),
        ("EMAIL_TIMEOUT", "timeout"),
    ]
    if _email.get(key) not in (None, "")
}
if _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    _email_options = {"file_path": str(VAR_DIR / "mail")}
else:
    # A hung server must fail well within the outbox's 10-minute reclaim window.
    _email_options.setdefault("timeout", 30)
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="support@helpdesk.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: a broker on the file system needs no server; Redis via CELERY_BROKER_URL.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # The file-system transport expects its folders; web, worker and beat all send to it.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Four queues, so that nothing waits behind a flood of something else: mail intake, mail
# to customers (replies, auto-replies, surveys, sign-in links), internal mail (reminders,
# escalations, agents' notifications) and periodic work (beat's jobs, and any task not
# routed). `celery worker` without -Q consumes all four (Procfile); production can give
# each its own workers with -Q (see docker-compose.yml). Each queue is polled in turn, so
# a thousand internal mails delay a new ticket by one task, not a thousand.
CELERY_TASK_QUEUES = {
    name: {"exchange": name, "routing_key": name}
    for name in ("intake", "customer_mail", "internal_mail", "periodic")
}
CELERY_TASK_DEFAULT_QUEUE = "periodic"
CELERY_TASK_ROUTES = {
    "mailboxes.tasks.fetch_mailbox_task": {"queue": "intake"},
    "mailboxes.tasks.process_raw_messages_task": {"queue": "intake"},
    "mailboxes.tasks.send_outgoing_email_task": {"queue": "customer_mail"},
    "mailboxes.tasks.send_internal_email_task": {"queue": "internal_mail"},
}
CELERY_BEAT_SCHEDULE = {
    "purge-stale-presence": {
        "task": "tickets.tasks.purge_ticket_presence_task",
        "schedule": 300.0,
    },
    # One set-based query finds the mailboxes due; each gets its own fetch task.
    "dispatch-due-mailboxes": {
        "task": "mailboxes.tasks.dispatch_due_mailboxes_task",
        "schedule": 10.0,
    },
    "requeue-stale-raw-messages": {
        "task": "mailboxes.tasks.requeue_stale_raw_messages_task",
        "schedule": 300.0,
    },
    "purge-sign-in-links": {
        "task": "people.tasks.purge_sign_in_links_task",
        "schedule": 3600.0,
    },
    "send-due-outgoing-emails": {
        "task": "mailboxes.tasks.send_due_outgoing_emails_task",
        "schedule": 60.0,
    },
    # Reminders, escalations and late consultations: one indexed query each, rows claimed.
    "sla-sweep": {
        "task": "sla.tasks.sweep_task",
        "schedule": 60.0,
    },
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_HTTPS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=bool(SECURE_HSTS_SECONDS)
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=bool(SECURE_HSTS_SECONDS))

# Django 6 CSP: no inline script anywhere; mail HTML is sanitized and images are blocked
# unless the agent asks for them.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Axes logs every attempt at INFO; its lockouts stay visible as warnings.
        "axes": {"level": "WARNING"},
    },
}

# Mail path limits.
# Refused above this (kept unread, the sender told once); a mailbox may set its own limit.
MAIL_MAX_MESSAGE_BYTES = env.int("MAIL_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024)
MAIL_MAX_MIME_DEPTH = 20
# New messages one fetch downloads from one mailbox; the rest waits for the next run (at the
# next dispatch, a few seconds later), so that a flood in one mailbox takes turns with the
# mail of the others instead of filling the intake queue ahead of them.
MAIL_FETCH_MAX_PER_RUN = env.int("MAIL_FETCH_MAX_PER_RUN", default=200)
# More Received headers than this: the mail is circling between servers (a loop).
MAIL_MAX_RECEIVED_HEADERS = env.int("MAIL_MAX_RECEIVED_HEADERS", default=50)
AUTO_REPLY_LIMIT_PER_HOUR = env.int("AUTO_REPLY_LIMIT_PER_HOUR", default=3)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)

# How long a "someone else is on this ticket" mark lives without a refresh.
TICKET_PRESENCE_SECONDS = 45
QUEUE_PAGE_SIZE = 25

# SLA: a deadline this close is "due soon" (amber) on the dashboard and the queue.
SLA_DUE_SOON_MINUTES = env.int("SLA_DUE_SOON_MINUTES", default=60)
SLA_DASHBOARD_PAGE_SIZE = 50
SLA_DASHBOARD_REFRESH_SECONDS = env.int("SLA_DASHBOARD_REFRESH_SECONDS", default=30)
