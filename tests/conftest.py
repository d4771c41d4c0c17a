"""The named cast every test can ask for, and helpers for tests that need real servers."""

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

import pytest
import redis
from celery import current_app
from django.db import connection

from helpdesk.celery import app as celery_app
from people.models import Absence, Role
from people.services import create_agent
from tests.factories import ContactFactory, PoolFactory, make_mailbox
from tests.mailboxes.smtp_sink import SmtpSink, free_port, mailers_for, running_sink
from tickets.models import PoolMembership

IN_CI = os.environ.get("CI") == "true"

# The chat platforms' local servers and channels, for the chat and security tests.
pytest_plugins = ["tests.chat.fixtures", "tests.chat.widget_fixtures"]


def require(condition: bool, reason: str) -> None:
    """Skip when a server is missing on a developer machine; fail in CI, where it must exist."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def require_postgresql() -> None:
    """For tests marked ``postgresql`` (the SQLite run deselects them)."""
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def pool(db):
    return PoolFactory(name="Billing")


@pytest.fixture
def other_pool(db):
    return PoolFactory(name="Hardware")


def _agent(username, *, role=Role.AGENT, is_junior=False, pools=()):
    user = create_agent(
        username=username,
        password="secret-pass-123",
        first_name=username.title(),
        email=f"{username}@helpdesk.test",
        role=role,
        is_junior=is_junior,
    )
    for pool in pools:
        PoolMembership.objects.create(pool=pool, user=user)
    return user


@pytest.fixture
def agent(pool):
    return _agent("agent", pools=[pool])


@pytest.fixture
def other_agent(other_pool):
    return _agent("otheragent", pools=[other_pool])


@pytest.fixture
def junior(pool):
    return _agent("junior", is_junior=True, pools=[pool])


@pytest.fixture
def supervisor(db):
    return _agent("supervisor", role=Role.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return _agent("admin", role=Role.ADMIN)


@pytest.fixture
def customer(db):
    return ContactFactory(name="Carla Cliente")


@pytest.fixture
def other_customer(db):
    return ContactFactory(name="Olaf Other")


@pytest.fixture
def make_absence():
    def make(agent, *, substitute=None, starts_at=None, ends_at=None):
        from datetime import timedelta

        from django.utils import timezone

        now = timezone.now()
        return Absence.objects.create(
            agent=agent,
            substitute=substitute,
            starts_at=starts_at or now - timedelta(hours=1),
            ends_at=ends_at or now + timedelta(days=1),
        )

    return make


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s per user; tests make many users and test no hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded files of one test never land in the project or meet another test's.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def customer_user(customer):
    """The portal login of ``customer`` (password "secret-pass-123")."""
    from people.services import create_customer_account

    return create_customer_account(customer, username="carla", password="secret-pass-123")


@pytest.fixture
def other_customer_user(other_customer):
    from people.services import create_customer_account

    return create_customer_account(other_customer, username="olaf", password="secret-pass-123")


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


@pytest.fixture
def exclusive():
    """Call with a name: the test holds it alone until it ends, across parallel test
    processes (a shared broker DB; timed tests that must not compete for the CPU)."""
    held = []

    def take(name: str) -> None:
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"helpdesk-test-{digest}.lock"
        lock = path.open("w")  # held until the test ends
        held.append(lock)
        fcntl.flock(lock, fcntl.LOCK_EX)

    yield take
    for lock in held:
        lock.close()


@pytest.fixture
def exclusive_redis(exclusive):
    """Call with a Redis URL: skip without it, else hold it alone (tests run in parallel
    share the DB numbers and would take each other's tasks) and start it empty."""

    def take(url):
        from tests.celery_worker import redis_available

        require(redis_available(url), f"needs Redis at {url}")
        exclusive(url)
        redis.Redis.from_url(url).flushdb()
        return url

    return take


@pytest.fixture
def eager_tasks():
    """Tasks run in-process right after commit, as a worker would, only sooner.

    On the project's app, made current (shared tasks go to the current app, which another
    test's probe app may have become), and on the app that was current before.
    """
    before = current_app._get_current_object()
    previous = {app: app.conf.task_always_eager for app in {celery_app, before}}
    celery_app.set_current()
    for app in previous:
        app.conf.task_always_eager = True
    yield
    for app, value in previous.items():
        app.conf.task_always_eager = value
    before.set_current()


@pytest.fixture
def mailbox(pool):
    """The support mailbox of ``pool`` (support@helpdesk.test, maildir)."""
    return make_mailbox(pool)


@pytest.fixture
def sink(settings):
    """A running SMTP sink, and Django sending to it by real SMTP (not locmem)."""
    sink = SmtpSink(port=free_port())
    settings.MAILERS = mailers_for(sink.port)
    with running_sink(sink):
        yield sink


@pytest.fixture
def database_live_backend(settings):
    """Live events through the database backend, as on the embedded defaults (no Redis)."""
    settings.LIVE_REDIS_URL = ""
