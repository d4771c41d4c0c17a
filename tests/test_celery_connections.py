"""A worker keeps its database connection from one job to the next, as a web process does
between requests, and drops one that is obsolete or broken (helpdesk/celery.py)."""

import time
from types import SimpleNamespace

import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connection


def _job(*, eager: bool):
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def test_celery_is_told_to_keep_connections():
    assert settings.CELERY_DB_REUSE_MAX >= 100


@pytest.mark.django_db(transaction=True)
def test_a_job_keeps_a_healthy_connection_and_drops_an_obsolete_one():
    connection.ensure_connection()
    connection.close_at = None  # CONN_MAX_AGE=None: never too old
    for signal in (task_prerun, task_postrun):
        signal.send(sender=None, task=_job(eager=False), task_id="1")
    assert connection.connection is not None, "a healthy connection is kept"

    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    task_postrun.send(sender=None, task=_job(eager=False), task_id="2")
    assert connection.connection is None, "an obsolete one is closed"


@pytest.mark.django_db(transaction=True)
def test_an_eager_job_leaves_the_callers_connection_alone():
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    task_postrun.send(sender=None, task=_job(eager=True), task_id="3")
    assert connection.connection is not None
