"""chatsite's one settings module. Every value that differs between deployments is read
from the environment; README.md lists them all."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from chatsite.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_str,
    sso_app_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only for a developer's machine: DEBUG must be on for this key to be used.
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    # Single sign-on with OpenID Connect: django-allauth does the protocol (chat/sso/).
    # Before chat, whose admin replaces some of allauth's admin pages.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files are not logged; it sees the user via the request.
    "chat.web.middleware.request_log_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the one the person chose (a cookie), else their browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chat.web.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

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
                "chat.web.context_processors.site",
            ],
        },
    },
]

# Channels closes connections older than this around every database call: with 0, each
# call would open a new connection on the hot path.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 600)
if env_str("DATABASE_URL"):
    # Postgres when the site outgrows one machine: postgres://user:password@host:5432/name
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL"), conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    # SQLite by default. WAL and IMMEDIATE transactions keep the generation's writes and
    # page reads from tripping over each other's locks.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": DB_CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "chat.User"

if env_str("REDIS_URL"):
    # Several server processes share deltas, snapshots and Stop through Redis.
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis that rides out a Redis restart (chat/realtime/layers.py).
            "BACKEND": "chat.realtime.layers.RedisLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": env_str("REDIS_URL"),
                        # redis-py's default socket timeout (5 s) equals the layer's
                        # blocking-pop timeout, so an idle socket's read could time out.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 2,
                        # A blocking pool: at its size a caller waits for a connection
                        # (up to `timeout` s) instead of failing. Each running answer
                        # holds one (its Stop listener's blocking pop).
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 500, minimum=10),
                        "timeout": env_float("REDIS_POOL_TIMEOUT", 10.0, minimum=0.1),
                    }
                ],
                # How long an operation waits for an unreachable Redis before it fails.
                "retry_for": env_float("REDIS_RETRY_FOR", 30.0, minimum=1.0),
                "prefix": "chatsite",
                # All sockets of one process share one Redis list, and group_send drops
                # what does not fit: 100 (the default) lost frames under 20 streams.
                "capacity": env_int("REDIS_CHANNEL_CAPACITY", 10_000, minimum=100),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "chat.realtime.layers.InProcessChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Email, for password reset links: printed to the server's output unless EMAIL_HOST
# names an SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "chatsite <noreply@localhost>")
# A forgotten password is reset by a link by email: only where an email can reach its
# owner. In production without EMAIL_HOST the link would land in the server's log, where
# whoever reads the log could use it: off unless asked for.
PASSWORD_RESET_ENABLED = env_bool("PASSWORD_RESET_ENABLED", DEBUG or bool(EMAIL_HOST)) and (
    not env_bool("SSO_ONLY", False)
)
# A reset link works once, and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600, minimum=60)

# Single sign-on: OpenID Connect providers from the environment (and more in the admin).
# SSO_PROVIDERS names them; each has SSO_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET and
# optionally _LABEL (the login button's text) and _SCOPES.
SSO_PROVIDERS = env_list("SSO_PROVIDERS")
SSO_ONLY = env_bool("SSO_ONLY", False)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        # chatsite's subclass adds what allauth's code flow leaves out: the ID token's
        # signature is always checked, and a nonce is sent and checked.
        "provider_class": "chat.sso.provider.SsoProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [sso_app_from_env(name) for name in SSO_PROVIDERS],
    }
}
SOCIALACCOUNT_ADAPTER = "chat.sso.adapters.SocialAccountAdapter"
ACCOUNT_ADAPTER = "chat.sso.adapters.AccountAdapter"
# A provider's verified email signs in (and links) the local account with that address;
# an unverified one never does (chat/sso/adapters.py refuses the sign-in instead).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False  # the provider's tokens are not kept: nothing uses them
SOCIALACCOUNT_ONLY = SSO_ONLY
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts with a POST (CSRF-protected)
ACCOUNT_EMAIL_VERIFICATION = "none"  # the provider says whether an email is verified
ACCOUNT_UNIQUE_EMAIL = True
# SSO only: a password signs in the break-glass superuser only.
AUTHENTICATION_BACKENDS = [
    "chat.sso.backends.SuperuserPasswordBackend"
    if SSO_ONLY
    else "django.contrib.auth.backends.ModelBackend"
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The languages the site is translated into (locale/), each named in its own language in
# the switch. Every text of the site and of chatsite's admin pages is in each.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("zh-hans", "简体中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["chatsite.formats"]
# The language chosen with the switch: a year, like a preference.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # The browser libraries, from node_modules (npm ci): chatsite/vendor.py names them.
    "chatsite.vendor.VendorFinder",
]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "chatsite.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from static/ without collectstatic while developing.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Production hardening; all of these are what `manage.py check --deploy` asks for.
if env_bool("TRUST_PROXY_HEADERS", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself: anyone else could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    LANGUAGE_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Share links' tokens never reach the log (chat/redaction.py).
    "filters": {"share_tokens": {"()": "chat.redaction.ShareTokenFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["share_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; chatsite logs its own, without secrets.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The same for the MCP SDK's client: a server's URL may carry a token.
        "httpx2": {"level": "WARNING"},
        "httpcore2": {"level": "WARNING"},
        "mcp": {"level": "WARNING"},
    },
}

# --- chatsite -----------------------------------------------------------------------

# Who may create an account: open, invite (invite-only) or closed. This is the first
# value only: admins change it in the admin's site settings.
SIGNUP_MODE = env_str("SIGNUP_MODE", "closed")
if SIGNUP_MODE not in {"open", "invite", "closed"}:
    raise ImproperlyConfigured("SIGNUP_MODE must be open, invite or closed")

# Fernet keys (comma-separated; the first encrypts, all decrypt, for rotation) that
# encrypt provider API keys stored in the database. Without it, one is derived from
# SECRET_KEY, and changing SECRET_KEY then makes stored provider keys unreadable.
ENCRYPTION_KEYS = env_list("ENCRYPTION_KEYS")

# The upstream OpenAI-compatible provider. With no LLM_BASE_URL, the offline demo
# provider answers instead (and the page says so).
LLM_BASE_URL = env_str("LLM_BASE_URL").rstrip("/")
LLM_API_KEY = env_str("LLM_API_KEY")
# The model to use; empty means the first one the provider lists at GET /models.
LLM_MODEL = env_str("LLM_MODEL")
# The default provider's models offered to users; empty offers all it lists.
LLM_MODELS = env_list("LLM_MODELS")
# How long a provider's GET /models answer is reused (the page can ask for a refresh).
LLM_MODELS_CACHE_SECONDS = env_float("LLM_MODELS_CACHE_SECONDS", 600.0)
# A name for the default provider in the ledger and the model picker.
LLM_PROVIDER_NAME = env_str("LLM_PROVIDER_NAME", "default")
LLM_CONNECT_TIMEOUT = env_float("LLM_CONNECT_TIMEOUT", 10.0, minimum=0.1)
LLM_READ_TIMEOUT = env_float("LLM_READ_TIMEOUT", 120.0, minimum=0.1)
# The HTTP client that reads providers' streams: aiohttp costs about half of httpx per
# token under load (docs/benchmarks.md); httpx stays for comparison (and the demo provider).
LLM_HTTP_CLIENT = env_choice("LLM_HTTP_CLIENT", "aiohttp", ("aiohttp", "httpx"))
# Failures before the first token (429, 5xx, connection errors) are retried: this many
# attempts in all, waiting base, twice that, four times that… (or the provider's Retry-After), and
# never more than LLM_RETRY_MAX_WAIT seconds of waiting in all.
LLM_RETRY_ATTEMPTS = env_int("LLM_RETRY_ATTEMPTS", 4, minimum=1)
LLM_RETRY_BASE_DELAY = env_float("LLM_RETRY_BASE_DELAY", 1.0)
LLM_RETRY_MAX_WAIT = env_float("LLM_RETRY_MAX_WAIT", 30.0)

# How often deltas are sent to sockets while streaming (seconds), and about how often the
# upstream's body is read once tokens flow: coalescing keeps frames and reads bounded
# whatever the upstream's pace. 20 updates a second read as smooth; the relay benchmark
# measured 30 ms against 50 ms (docs/benchmarks.md).
CHAT_DELTA_INTERVAL = env_float("CHAT_DELTA_INTERVAL", 0.05)
# Frames one socket may send: a steady rate with a burst. Past it a frame gets an error;
# this many refused in a row closes the socket (code 4429).
CHAT_FRAMES_PER_SECOND = env_float("CHAT_FRAMES_PER_SECOND", 5.0, minimum=0.1)
CHAT_FRAME_BURST = env_int("CHAT_FRAME_BURST", 30, minimum=1)
CHAT_FRAME_ABUSE_LIMIT = env_int("CHAT_FRAME_ABUSE_LIMIT", 50, minimum=1)
# Local MCP servers (stdio), as the server operator configures them: a JSON object of
# name -> {"command": absolute path, "args": [...], "env": {...}}. Admins choose among
# these names; they never enter a command.
MCP_STDIO_SERVERS = env_json_object("MCP_STDIO_SERVERS")
MCP_CONNECT_TIMEOUT = env_float("MCP_CONNECT_TIMEOUT", 10.0, minimum=0.1)
# One tool call may run this long (seconds), and its result is cut to this many characters
# before the model or the page sees it: a tool's output is untrusted and unbounded.
MCP_TOOL_TIMEOUT = env_float("MCP_TOOL_TIMEOUT", 60.0, minimum=0.1)
MCP_RESULT_MAX_CHARS = env_int("MCP_RESULT_MAX_CHARS", 20_000, minimum=100)
# Rounds of tool calls in one answer: a model that keeps calling tools past this is
# stopped (the answer ends incomplete), so a loop cannot run up a bill.
CHAT_TOOL_ROUNDS = env_int("CHAT_TOOL_ROUNDS", 8, minimum=1)
# Calls run in one round, at once (each its own connection or process); a model asking
# for more is told that the rest did not run.
CHAT_TOOL_CALLS_PER_ROUND = env_int("CHAT_TOOL_CALLS_PER_ROUND", 10, minimum=1)
# How long a call that needs the user's approval waits for it (seconds); then declined.
CHAT_TOOL_APPROVAL_SECONDS = env_float("CHAT_TOOL_APPROVAL_SECONDS", 900.0, minimum=1.0)
# Tokens each answer being written holds of a monthly budget (the user's, or a team's)
# until its real usage is recorded: a send starts only if some budget is left beyond what
# the answers in flight hold, so two sends cannot both take the last of it.
BUDGET_HOLD_TOKENS = env_int("BUDGET_HOLD_TOKENS", 4_000, minimum=1)
# The longest user message accepted, in characters.
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 32_000, minimum=1)
# After a new conversation's first answer, ask the model for a short title (one small
# extra request, in the usage ledger as purpose=title). Off: the first words stay.
CHAT_AUTO_TITLES = env_bool("CHAT_AUTO_TITLES", True)
# Images attached to messages: stored in the database, sent upstream as data: URLs.
CHAT_IMAGE_MAX_BYTES = env_int("CHAT_IMAGE_MAX_BYTES", 5 * 1024 * 1024, minimum=1)
CHAT_IMAGE_TYPES = env_list("CHAT_IMAGE_TYPES", ["png", "jpeg", "gif", "webp"])
CHAT_IMAGES_PER_MESSAGE = env_int("CHAT_IMAGES_PER_MESSAGE", 4, minimum=1)
# Documents (chat/documents/): their text is extracted in a process of its own, with
# these limits, one document at a time per server process.
CHAT_DOCUMENT_MAX_BYTES = env_int("CHAT_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
CHAT_DOCUMENT_MAX_PAGES = env_int("CHAT_DOCUMENT_MAX_PAGES", 2_000, minimum=1)
CHAT_DOCUMENT_MAX_UNPACKED_BYTES = env_int(
    "CHAT_DOCUMENT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024, minimum=1
)
CHAT_DOCUMENT_MEMORY_BYTES = env_int("CHAT_DOCUMENT_MEMORY_BYTES", 1024 * 1024 * 1024, minimum=1)
CHAT_DOCUMENT_SECONDS = env_float("CHAT_DOCUMENT_SECONDS", 60.0)
CHAT_DOCUMENTS_PER_MESSAGE = env_int("CHAT_DOCUMENTS_PER_MESSAGE", 10, minimum=1)
# Importing conversations (chat/services/conversations/importing.py): the largest file,
# its conversations, and one conversation's messages.
CHAT_IMPORT_MAX_BYTES = env_int("CHAT_IMPORT_MAX_BYTES", 100 * 1000 * 1000, minimum=1)
CHAT_IMPORT_MAX_CONVERSATIONS = env_int("CHAT_IMPORT_MAX_CONVERSATIONS", 5_000, minimum=1)
CHAT_IMPORT_MAX_MESSAGES = env_int("CHAT_IMPORT_MAX_MESSAGES", 5_000, minimum=1)
# What one user's library may hold, counted in the sizes of the files they brought.
CHAT_DOCUMENT_LIBRARY_BYTES = env_int("CHAT_DOCUMENT_LIBRARY_BYTES", 500 * 1024 * 1024, minimum=1)
# Documents whose text together is at most this many tokens go whole with a question;
# beyond it, the passages that best answer the question (CHAT_DOCUMENT_PASSAGES of them).
CHAT_DOCUMENT_CONTEXT_TOKENS = env_int("CHAT_DOCUMENT_CONTEXT_TOKENS", 16_000, minimum=1)
CHAT_DOCUMENT_PASSAGES = env_int("CHAT_DOCUMENT_PASSAGES", 8, minimum=1)
