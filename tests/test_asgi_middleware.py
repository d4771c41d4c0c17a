"""Under ASGI a request's middleware runs in the view's thread, not hopping to and fro."""

import asyncio

import asgiref.sync
import pytest
from django.test import AsyncClient


@pytest.mark.django_db(transaction=True)
def test_a_request_crosses_to_a_thread_only_where_django_itself_does(monkeypatch):
    hops = []
    real = asgiref.sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counting)

    async def get():
        return await AsyncClient().get("/accounts/login/")

    response = asyncio.run(get())

    assert response.status_code == 200
    # Django's own async path for a sync view: the request_started receivers, the whole
    # middleware list (in sync mode), CSRF's process_view, the view, the template
    # response's render and the response's close. A sync-only middleware in the middle
    # of the list made each async-capable one below it hop for its hooks too: 11 in all.
    assert len(hops) <= 6, hops
