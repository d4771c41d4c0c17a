"""Platform webhooks (verified as each platform documents, stored, answered at once), and
the chat thread a ticket page refreshes.

One URL per channel (``/chat/hooks/<kind>/<public key>/``): a guessed key finds nothing
(404), and a request without the channel's secret or signature is refused (403) before
its body is even parsed. Duplicate deliveries are ignored by the stored event's key.
"""

import json
import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from chat.adapters import adapter_for
from chat.adapters.base import VerificationError
from chat.inbound import store_events
from chat.models import ChatChannel
from chat.tasks import process_inbound_events_task
from chat.thread import thread_view
from helpdesk.celery import enqueue_on_commit
from people.decorators import agent_required
from tickets.views.detail import ticket_for_page

logger = logging.getLogger(__name__)

WEBHOOK_KINDS = (ChatChannel.Kind.TELEGRAM, ChatChannel.Kind.WHATSAPP, ChatChannel.Kind.MESSENGER)


def _channel(kind: str, key) -> ChatChannel:
    channel = ChatChannel.objects.filter(kind=kind, public_key=key, active=True).first()
    if channel is None or kind not in WEBHOOK_KINDS:
        raise Http404
    return channel


@csrf_exempt  # platforms post without our CSRF token; the secret or signature stands for it
@require_http_methods(["GET", "POST"])
def webhook(request, kind, key):
    channel = _channel(kind, key)
    adapter = adapter_for(channel)
    if request.method == "GET":
        challenge = adapter.handshake(request)
        if challenge is None:
            return HttpResponseForbidden()
        return HttpResponse(challenge, content_type="text/plain")
    try:
        adapter.verify(request)
    except VerificationError as error:
        logger.warning("chat webhook refused for channel %s: %s", channel.pk, error)
        return HttpResponseForbidden()
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest()
    event_ids = store_events(channel, payload)
    if event_ids:
        # After commit (ATOMIC_REQUESTS or not): the rows are the truth, the job a wake-up.
        enqueue_on_commit(process_inbound_events_task, event_ids)
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@login_required
@agent_required
def ticket_thread(request, number):
    """The chat thread of a ticket alone: the ticket page swaps it in on live events."""
    ticket = ticket_for_page(request.user, number)  # 404 unless the agent may see it
    view = thread_view(ticket, ticket.messages.all())
    if view is None:
        raise Http404
    return render(request, "chat/thread.html#thread", {"ticket": ticket, "thread_view": view})
