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
    # Right after tickets: its receivers are connected first, so a browser hears of a change
    # before the slower receivers (deadlines, report facts, notification mail) have run.
    "live",
    "knowledge",
    "mailboxes",
    "sla",
    "surveys",
    "reports",
    "portal",
    "phone",
    "chat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "webhooks",
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
                "people.profiles.features",
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
    # Covering indexes (INCLUDE, the report facts') are PostgreSQL's: SQLite builds them
    # as plain indexes on their key columns, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_POOL", default=False):
        # The ASGI web process (helpdesk/asgi.py turns this on): a request's thread ends
        # with the request, so instead of a new PostgreSQL session per request each
        # process keeps a pool (psycopg_pool through Django's "pool" option).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        from psycopg_pool import ConnectionPool

        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": env.int("DATABASE_POOL_SIZE", default=10),
            "timeout": 30,
            # A connection a database restart broke is replaced, not handed out.
            "check": ConnectionPool.check_connection,
        }
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
# Phone numbers typed without a country code are read as numbers of this region (ISO code).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="BR")
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
# The website chat widget (chat/widget.py): messages per minute from one address and from
# one visitor, and the least seconds between showing the widget and a first message.
CHAT_WIDGET_IP_PER_MINUTE = env.int("CHAT_WIDGET_IP_PER_MINUTE", default=120)
CHAT_WIDGET_VISITOR_PER_MINUTE = env.int("CHAT_WIDGET_VISITOR_PER_MINUTE", default=20)
CHAT_WIDGET_MIN_SECONDS = env.float("CHAT_WIDGET_MIN_SECONDS", default=2.0)

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

# OAuth2 for mailboxes (IMAP, POP3 and SMTP with XOAUTH2): each provider's app registration.
# The redirect URI to register is SITE_URL + /settings/mailboxes/oauth/callback/. The
# endpoints of Google and Microsoft are built in (mailboxes/oauth.py); "generic" is any
# other provider, all of whose endpoints come from here. A provider without a client id
# offers no Connect button.
OAUTH_PROVIDERS = {
    "google": {
        "client_id": env.str("GOOGLE_OAUTH_CLIENT_ID", default=""),
        "client_secret": env.str("GOOGLE_OAUTH_CLIENT_SECRET", default=""),
    },
    "microsoft": {
        "client_id": env.str("MICROSOFT_OAUTH_CLIENT_ID", default=""),
        "client_secret": env.str("MICROSOFT_OAUTH_CLIENT_SECRET", default=""),
        "tenant": env.str("MICROSOFT_OAUTH_TENANT", default="common"),
    },
    "generic": {
        "label": env.str("OAUTH_GENERIC_LABEL", default="OAuth2"),
        "client_id": env.str("OAUTH_GENERIC_CLIENT_ID", default=""),
        "client_secret": env.str("OAUTH_GENERIC_CLIENT_SECRET", default=""),
        "authorize_url": env.str("OAUTH_GENERIC_AUTHORIZE_URL", default=""),
        "token_url": env.str("OAUTH_GENERIC_TOKEN_URL", default=""),
        "revoke_url": env.str("OAUTH_GENERIC_REVOKE_URL", default=""),
        "userinfo_url": env.str("OAUTH_GENERIC_USERINFO_URL", default=""),
        "scope": env.str("OAUTH_GENERIC_SCOPE", default=""),
    },
}
# An access token this close to its expiry is refreshed before a fetch or a send.
OAUTH_REFRESH_MARGIN_SECONDS = env.int("OAUTH_REFRESH_MARGIN_SECONDS", default=300)
OAUTH_TIMEOUT_SECONDS = env.float("OAUTH_TIMEOUT_SECONDS", default=20.0)
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
# Celery closes every database connection before and after each job unless told to keep
# them: a new PostgreSQL session (a forked backend, authentication) for every one of the
# thousand small jobs a mail flood causes. Kept, a job starts and ends as a Django request
# does (helpdesk/celery.py: close_old_connections, CONN_MAX_AGE, health checks); Celery
# still closes them all every 2 x this many jobs.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
# Seven queues (webhooks: deliveries to integrations, whose slow receivers must never
# delay mail), so that nothing waits behind a flood of something else: mail intake, mail
# to customers (replies, auto-replies, surveys, sign-in links), internal mail (reminders,
# escalations, agents' notifications) and periodic work (beat's jobs, and any task not
# routed). `celery worker` without -Q consumes all seven (Procfile); production can give
# each its own workers with -Q (see docker-compose.yml). Each queue is polled in turn, so
# a thousand internal mails delay a new ticket by one task, not a thousand. Chat has its
# own queue (messaging webhooks and replies), and so do the search documents (a bulk change
# or a big import re-indexes many tickets: that work never holds up a new mail).
CELERY_TASK_QUEUES = {
    name: {"exchange": name, "routing_key": name}
    for name in (
        "intake",
        "customer_mail",
        "internal_mail",
        "periodic",
        "webhooks",
        "chat",
        "search",
    )
}
CELERY_TASK_DEFAULT_QUEUE = "periodic"
CELERY_TASK_ROUTES = {
    "mailboxes.tasks.fetch_mailbox_task": {"queue": "intake"},
    "mailboxes.tasks.process_raw_messages_task": {"queue": "intake"},
    "mailboxes.tasks.process_mailbox_backlog_task": {"queue": "intake"},
    "mailboxes.tasks.send_outgoing_email_task": {"queue": "customer_mail"},
    "mailboxes.tasks.send_internal_email_task": {"queue": "internal_mail"},
    # New tickets' notifications, out of the request or batch that opened them.
    "mailboxes.tasks.notify_tickets_opened_task": {"queue": "internal_mail"},
    "webhooks.tasks.fan_out_deliveries_task": {"queue": "webhooks"},
    "webhooks.tasks.send_delivery_task": {"queue": "webhooks"},
    # Search documents: a backlog of them never delays a fetch (the catch-up is the guarantee).
    "tickets.tasks.index_tickets_task": {"queue": "search"},
    # Chats are conversations: their webhooks and replies never wait behind mail.
    "chat.tasks.process_inbound_events_task": {"queue": "chat"},
    "chat.tasks.send_chat_message_task": {"queue": "chat"},
}
CELERY_BEAT_SCHEDULE = {
    # Search documents older than their ticket (a lost index task) are rebuilt.
    "catch-up-search": {
        "task": "tickets.tasks.catch_up_search_task",
        "schedule": 120.0,
    },
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
    # Agents' hourly and daily digests: one mail per agent and period, its rows claimed.
    "send-due-digests": {
        "task": "mailboxes.tasks.send_due_digests_task",
        "schedule": 300.0,
    },
    "send-due-outgoing-emails": {
        "task": "mailboxes.tasks.send_due_outgoing_emails_task",
        "schedule": 60.0,
    },
    # Chat outbox rows and webhook events whose job was lost or whose retry is due.
    "chat-sweep": {
        "task": "chat.tasks.chat_sweep_task",
        "schedule": 30.0,
    },
    # Resolved chats whose channel's quiet time is over close (one query for all channels).
    "close-quiet-chats": {
        "task": "chat.tasks.close_quiet_chats_task",
        "schedule": 300.0,
        "options": {"queue": "periodic"},
    },
    # Reminders, escalations and late consultations: one indexed query each, rows claimed.
    # Resolved tickets nobody answered for the pool's working days close (one query per pool).
    "close-resolved-tickets": {
        "task": "sla.tasks.close_resolved_tickets_task",
        "schedule": 600.0,
    },
    "sla-sweep": {
        "task": "sla.tasks.sweep_task",
        "schedule": 60.0,
    },
    # The live events' table (embedded mode, without Redis) keeps a few minutes only.
    "prune-live-events": {
        "task": "live.tasks.prune_live_events_task",
        "schedule": 60.0,
    },
    # Scheduled custom reports: each mailed once per week or month (a row per period).
    "send-scheduled-reports": {
        "task": "reports.tasks.send_scheduled_reports_task",
        "schedule": 3600.0,
        "options": {"queue": "periodic"},
    },
    # Webhook retries whose time came, rows of a dead worker, jobs the broker lost.
    "send-due-webhook-deliveries": {
        "task": "webhooks.tasks.send_due_deliveries_task",
        "schedule": 10.0,
    },
}

# Live updates (live/): events reach browsers over server-sent events from the ASGI
# server. With Redis (LIVE_REDIS_URL, by default the Celery broker's when that is Redis)
# they travel by pub/sub; without, through a table the stream server polls. An empty
# LIVE_REDIS_URL chooses the table even beside a Redis broker.
_live_redis_url = os.environ.get("LIVE_REDIS_URL")
if _live_redis_url is None:
    _live_redis_url = CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
LIVE_REDIS_URL = _live_redis_url
LIVE_REDIS_CHANNEL = env.str("LIVE_REDIS_CHANNEL", default="helpdesk:live")
LIVE_POLL_SECONDS = env.float("LIVE_POLL_SECONDS", default=0.3)
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", default=15.0)
LIVE_RETRY_MILLISECONDS = 2000
# A stream's topics are authorised when it opens: it ends after this, the browser reconnects.
LIVE_STREAM_MAX_SECONDS = env.int("LIVE_STREAM_MAX_SECONDS", default=600)
# Under a WSGI server (manage.py runserver) a stream ends after this and the browser
# reconnects, resuming: that server has a thread per browser, not a hub.
LIVE_WSGI_STREAM_SECONDS = 25
LIVE_KEEP_SECONDS = env.int("LIVE_KEEP_SECONDS", default=600)

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
# The batches of one mailbox's stored mail are processed by this many chains at once (each
# takes the oldest batch nobody holds), so a flood keeps every worker busy; all but the
# first run at the broker's lowest priority, behind other mailboxes' fresh mail.
MAIL_PROCESS_CHAINS = env.int("MAIL_PROCESS_CHAINS", default=2)
# More Received headers than this: the mail is circling between servers (a loop).
MAIL_MAX_RECEIVED_HEADERS = env.int("MAIL_MAX_RECEIVED_HEADERS", default=50)
# One fetch of a mailbox at a time (mailboxes/fetch_claims.py): a claim left by a dead
# worker runs out after this many seconds.
MAIL_FETCH_LEASE_SECONDS = env.int("MAIL_FETCH_LEASE_SECONDS", default=900)
# The IMAP IDLE listener (`manage.py listen_mail`, mailboxes/idle.py). RFC 2177: a client
# re-issues IDLE at least every 29 minutes, or the server may log it out.
MAIL_IDLE_RENEW_SECONDS = env.float("MAIL_IDLE_RENEW_SECONDS", default=25 * 60)
# How often it re-reads the list of mailboxes (added, removed, deactivated, changed).
MAIL_IDLE_REFRESH_SECONDS = env.float("MAIL_IDLE_REFRESH_SECONDS", default=30)
# How often it marks its mailboxes as listened to (listening_at); three missed beats and
# the poller treats them as not listened to again.
MAIL_IDLE_HEARTBEAT_SECONDS = env.float("MAIL_IDLE_HEARTBEAT_SECONDS", default=60)
# Reconnecting after an error: the first wait, doubling up to the last.
MAIL_IDLE_RETRY_MIN_SECONDS = env.float("MAIL_IDLE_RETRY_MIN_SECONDS", default=2)
MAIL_IDLE_RETRY_MAX_SECONDS = env.float("MAIL_IDLE_RETRY_MAX_SECONDS", default=300)
# Polling stays the fallback: a mailbox the listener holds is polled every this many
# seconds (or its own interval, if longer). Off (false) only when you say so.
MAIL_IDLE_POLL_SECONDS = env.int("MAIL_IDLE_POLL_SECONDS", default=600)
MAIL_POLL_WHILE_LISTENING = env.bool("MAIL_POLL_WHILE_LISTENING", default=True)
AUTO_REPLY_LIMIT_PER_HOUR = env.int("AUTO_REPLY_LIMIT_PER_HOUR", default=3)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)

# Webhooks (webhooks/): where they may go, how long a send may take, retries and pausing.
# Private, loopback and link-local addresses are refused unless listed here (CIDR), and
# plain http is accepted only for listed addresses (DEBUG allows loopback by default).
WEBHOOK_ALLOWED_NETWORKS = env.list(
    "WEBHOOK_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"] if DEBUG else []
)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=12)
WEBHOOK_FIRST_RETRY_SECONDS = env.float("WEBHOOK_FIRST_RETRY_SECONDS", default=10.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=15)
# A row in "sending" this long belongs to a dead worker (far beyond the send's deadline).
# A job enqueued this long ago and not yet taken counts as lost by the broker: longer than
# a burst of events takes to drain, or the sweep would queue a second (harmless, wasted)
# job for every row still waiting its turn.
WEBHOOK_STUCK_AFTER_SECONDS = env.int("WEBHOOK_STUCK_AFTER_SECONDS", default=300)
WEBHOOK_LOST_JOB_AFTER_SECONDS = env.int("WEBHOOK_LOST_JOB_AFTER_SECONDS", default=900)

# How long a "someone else is on this ticket" mark lives without a refresh.
TICKET_PRESENCE_SECONDS = 45
QUEUE_PAGE_SIZE = 25
# Full-text search finds and ranks at most this many matching tickets, the newest, and
# counts "2,000+" above (tickets.search). A phrase is checked in the newest
# SEARCH_PHRASE_SCAN tickets that hold all its words.
SEARCH_CANDIDATES = env.int("SEARCH_CANDIDATES", default=2000)
SEARCH_PHRASE_SCAN = env.int("SEARCH_PHRASE_SCAN", default=5000)
# A chat ticket's search document is rebuilt at most once in this many seconds, however
# many lines come in meanwhile (0: after every message, as for mail).
SEARCH_CHAT_INDEX_SECONDS = env.int("SEARCH_CHAT_INDEX_SECONDS", default=30)
# A chat is many short lines: "customer replied" mails the technician for the first line
# after this many quiet seconds, not for every line (0: every line, as for mail).
CHAT_REPLY_NOTICE_QUIET_SECONDS = env.int("CHAT_REPLY_NOTICE_QUIET_SECONDS", default=600)
# An agent who would get this many notification mails from one event's batch (a flood of
# mail routed to them, a bulk assignment) gets one mail listing them; 0 never folds.
NOTIFICATION_BURST_SIZE = env.int("NOTIFICATION_BURST_SIZE", default=5)

# SLA: a deadline this close is "due soon" (amber) on the dashboard and the queue.
SLA_DUE_SOON_MINUTES = env.int("SLA_DUE_SOON_MINUTES", default=60)
# Resolved tickets of a pool without its own closing rule close after this many working days.
AUTO_CLOSE_BUSINESS_DAYS = env.int("AUTO_CLOSE_BUSINESS_DAYS", default=3)
SLA_DASHBOARD_PAGE_SIZE = 50
SLA_DASHBOARD_REFRESH_SECONDS = env.int("SLA_DASHBOARD_REFRESH_SECONDS", default=30)

# REST API (api app): token authentication only (no session, so no CSRF question), one
# rate per token, JSON in and out, errors as {"detail", "code", "errors"}.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/minute")
API_PAGE_SIZE = 25
API_MAX_PAGE_SIZE = 100
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.json_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Tickets, contacts, catalogues, articles, survey answers and report "
    "figures. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc are shipped as files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "tickets.states.Status",
        "PriorityEnum": "tickets.states.Priority",
        "ChannelEnum": "tickets.states.Channel",
        "CallDirectionEnum": "phone.models.Call.Direction",
        "ChatMessageDirectionEnum": "chat.models.ChatMessage.Direction",
    },
}
