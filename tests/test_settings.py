"""The project's settings: embedded defaults, environment switches, a clean deploy check."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _print_setting(expression, **env):
    code = f"from django.conf import settings; print({expression})"
    result = _manage("shell", "-v", "0", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_defaults_need_no_server():
    env = {"DATABASE_URL": "", "CELERY_BROKER_URL": "", "EMAIL_URL": ""}
    env = {k: v for k, v in os.environ.items() if k not in env}
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.MAILERS['default']['BACKEND'])"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.filebased.EmailBackend",
    ]


def test_environment_switches_to_postgresql_redis_and_smtp():
    printed = _print_setting(
        "settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.MAILERS['default']['OPTIONS']['host']",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/helpdesk",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="smtp://mailer.test:2525",
    )
    assert printed == "django.db.backends.postgresql redis://127.0.0.1:6379/0 mailer.test"


def test_deploy_check_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        SECURE_COOKIES="true",
        SECURE_SSL_REDIRECT="true",
        SECURE_HSTS_SECONDS="31536000",
        EMAIL_URL="smtp://mail:1025",
        ALLOWED_HOSTS="helpdesk.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_start_up_is_refused_with_the_published_default_key():
    from helpdesk.secret_key import PUBLISHED_KEYS

    for key in PUBLISHED_KEYS:
        result = _manage("check", DEBUG="false", SECRET_KEY=key)
        assert result.returncode != 0
        assert "ImproperlyConfigured: SECRET_KEY is a published default" in result.stderr


def test_start_up_is_refused_with_a_key_django_calls_weak():
    weak_keys = ["too-short", "ab" * 40, "django-insecure-" + secrets.token_urlsafe(50)]
    for key in weak_keys:
        result = _manage("check", DEBUG="false", SECRET_KEY=key)
        assert result.returncode != 0, key
        assert "ImproperlyConfigured" in result.stderr


def test_debug_starts_with_a_weak_key():
    result = _manage("check", DEBUG="true", SECRET_KEY="too-short")
    assert result.returncode == 0, result.stderr


def test_without_a_key_a_checkout_uses_its_own_generated_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", _PRINT_KEY],
        cwd=ROOT,
        env={**env, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key == (ROOT / "var" / "secret_key").read_text().strip()
    from helpdesk.secret_key import is_weak_secret_key

    assert not is_weak_secret_key(key)


_PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def test_generated_key_is_made_once_and_readable_only_by_its_owner(tmp_path):
    from helpdesk.secret_key import local_secret_key

    path = tmp_path / "var" / "secret_key"
    first = local_secret_key(path)
    assert local_secret_key(path) == first
    assert len(first) >= 50
    assert path.stat().st_mode & 0o077 == 0
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


def test_the_asgi_web_process_takes_postgresql_connections_from_a_pool():
    """helpdesk/asgi.py turns DATABASE_POOL on: no new PostgreSQL session per request."""
    printed = _print_setting(
        "settings.DATABASES['default']['CONN_MAX_AGE'], "
        "sorted(settings.DATABASES['default']['OPTIONS']['pool'])",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/helpdesk",
        DATABASE_POOL="true",
    )
    assert printed == "0 ['check', 'max_size', 'min_size', 'timeout']"
    # Workers and commands keep their persistent connections, without a pool. (Explicit:
    # a test that imported helpdesk.asgi has set both in this process's environment.)
    printed = _print_setting(
        "settings.DATABASES['default']['CONN_MAX_AGE'], "
        "'pool' in settings.DATABASES['default'].get('OPTIONS', {})",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/helpdesk",
        DATABASE_POOL="false",
        CONN_MAX_AGE="60",
    )
    assert printed == "60 False"


def test_the_asgi_module_asks_for_the_pool():
    text = (ROOT / "helpdesk" / "asgi.py").read_text()
    assert 'os.environ.setdefault("DATABASE_POOL", "true")' in text
