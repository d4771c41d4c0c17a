"""The website widget's endpoints, under ``/chat/widget/<channel key>/``.

Called by ``static/chat/widget.js`` from a page on another site: every one checks the
``Origin`` header against the channel's allowed origins (403 otherwise, and no CORS header,
so the browser hides even that answer), and answers only that origin. No cookie crosses
sites: the visitor's own conversation is named by their token (``X-Chat-Visitor`` header),
so no CSRF token is needed. The event stream is the live app's, limited to the token's
conversation topic.
"""

import json
from functools import wraps

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.asgi import ASGIRequest
from django.db import connections, transaction
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from chat import widget
from chat.models import Conversation
from chat.visitor import HEADER, PARAMETER, visitor_token
from chat.widget_texts import widget_strings
from live import views as live_views
from people.login import client_address
from tickets.downloads import download_response

ALLOWED_HEADERS = "Content-Type, X-Chat-Visitor, Last-Event-ID"


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _language(request) -> str:
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    try:
        return translation.get_supported_language_variant(asked.lower())
    except LookupError:
        return translation.get_language_from_request(request)


def widget_endpoint(view):
    """Origin check, CORS answer, preflight, language, and refusals as JSON, for each view."""

    @csrf_exempt  # no cookie is sent cross-site: the origin and the visitor token stand in
    @wraps(view)
    def wrapper(request, key, *args, **kwargs):
        channel = widget.widget_channel(key)
        if channel is None:
            raise Http404
        origin = request.headers.get("Origin", "")
        if not widget.origin_allowed(channel, origin):
            return HttpResponseForbidden()
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        token = request.headers.get("X-Chat-Visitor", "") or request.GET.get(PARAMETER, "")
        with translation.override(_language(request)):
            try:
                response = view(request, channel, token, *args, **kwargs)
            except widget.RefusedError as refused:
                response = JsonResponse({"error": str(refused)}, status=refused.status)
        return _cors(response, origin)

    return wrapper


def _conversation_or_403(channel, token) -> Conversation:
    conversation = widget.conversation_for(channel, token)
    if conversation is None:
        raise widget.RefusedError(_("This conversation is not yours."), status=403)
    return conversation


def _message_json(channel, item) -> dict:
    row = item["row"]
    return {
        "id": row.pk,
        "direction": row.direction,
        "text": row.text,
        "state": row.state,
        "at": row.created_at.isoformat(),
        "author": item["author"],
        "files": [
            {
                "id": f.pk,
                "name": f.filename,
                "size": f.size,
                "type": f.content_type,
                "url": reverse("chat:widget_file", args=[channel.public_key, f.pk]),
            }
            for f in item["files"]
        ],
    }


def _messages_json(channel, conversation, after=0) -> list[dict]:
    return [
        _message_json(channel, item) for item in widget.visible_messages(conversation, after=after)
    ]


@widget_endpoint
def config(request, channel, token):
    """What the widget shows before anything is sent: its texts, the calendar's state, and
    the conversation a returning visitor already has."""
    open_now = widget.is_open_now(channel)
    greeting, out_of_hours = channel.text_for(translation.get_language())
    conversation = widget.conversation_for(channel, token)
    return JsonResponse(
        {
            "strings": widget_strings(),
            "language": translation.get_language(),
            "open": open_now,
            "greeting": greeting,
            "out_of_hours": "" if open_now else out_of_hours,
            "stamp": widget.form_stamp(),
            "honeypot": widget.HONEYPOT,
            "limits": {
                "text": widget.MAX_TEXT,
                "files": widget.MAX_FILES,
                "file_bytes": widget.MAX_FILE_BYTES,
                "types": sorted(widget.ALLOWED_TYPES),
            },
            "stream": reverse("chat:widget_stream", args=[channel.public_key]),
            "conversation": bool(conversation),
            "messages": _messages_json(channel, conversation) if conversation else [],
        }
    )


@widget_endpoint
def search(request, channel, token):
    """Published public help articles matching the visitor's words, before they write."""
    from knowledge import search as knowledge_search
    from knowledge.models import ArticleVersion

    if not widget.within_rate("search", client_address(request), 60):
        raise widget.RefusedError(_("Too many searches. Please wait a minute."), status=429)
    text = request.GET.get("q", "")[:200]
    found = knowledge_search.find_any(
        ArticleVersion.objects.readable(), text, translation.get_language(), 5
    )
    results = [
        {
            "title": version.title,
            "url": request.build_absolute_uri(reverse("help:article", args=[version.article_id])),
            "summary": version.body_text[:160],
        }
        for version in found
    ]
    return JsonResponse({"results": results})


@widget_endpoint
def messages(request, channel, token):
    if request.method == "GET":
        mine = _conversation_or_403(channel, token)
        try:
            after = int(request.GET.get("after") or 0)
        except ValueError:
            after = 0
        return JsonResponse({"messages": _messages_json(channel, mine, after)})
    if request.method != "POST":
        return HttpResponse(status=405)
    posted = _post_message(request, channel, token)
    after = int(request.POST.get("after") or 0) if request.POST.get("after", "").isdigit() else 0
    return JsonResponse(
        {
            "token": visitor_token(posted.conversation),
            "conversation": str(posted.conversation.public_key),
            "id": posted.record.pk,
            "messages": _messages_json(channel, posted.conversation, after),
        },
        status=201,
    )


@transaction.atomic  # one transaction: the conversation is read and locked in one query
def _post_message(request, channel, token) -> widget.Posted:
    conversation = widget.conversation_for(channel, token, lock=True)
    if token and conversation is None:
        raise widget.RefusedError(_("This conversation is not yours."), status=403)
    widget.check_rates(
        address=client_address(request),
        visitor=str(conversation.public_key) if conversation else "",
    )
    if conversation is None:
        widget.check_human(
            honeypot=request.POST.get(widget.HONEYPOT, ""), stamp=request.POST.get("stamp", "")
        )
    return widget.post_message(
        channel,
        conversation=conversation,
        text=request.POST.get("text", ""),
        files=request.FILES.getlist("files"),
        name=request.POST.get("name", "")[:200],
        email=_email(request.POST.get("email", "")),
        language=translation.get_language(),
        client_id=request.POST.get("client_id", ""),
    )


def _email(value: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    value = value.strip()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise widget.RefusedError(_("Enter a valid email address.")) from None
    return value


def _posted_json(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise widget.RefusedError(_("Not JSON.")) from None
    if not isinstance(data, dict):
        raise widget.RefusedError(_("Not JSON."))
    return data


@widget_endpoint
def seen(request, channel, token):
    """The widget showed or the visitor read our messages up to an id."""
    if request.method != "POST":
        return HttpResponse(status=405)
    conversation = _conversation_or_403(channel, token)
    data = _posted_json(request)
    up_to = data.get("up_to")
    if not isinstance(up_to, int) or isinstance(up_to, bool):
        raise widget.RefusedError(_("up_to: a message id."))
    changed = widget.mark_seen(conversation, up_to=up_to, state=str(data.get("state", "")))
    return JsonResponse({"changed": changed})


@widget_endpoint
def typing(request, channel, token):
    if request.method != "POST":
        return HttpResponse(status=405)
    conversation = _conversation_or_403(channel, token)
    if widget.within_rate("typing", str(conversation.public_key), 30):
        widget.visitor_typing(conversation)
    return JsonResponse({})


@widget_endpoint
def transcript(request, channel, token):
    """Mail the transcript to the visitor's own address (the one the conversation knows)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    conversation = _conversation_or_403(channel, token)
    if not widget.within_rate("transcript", str(conversation.public_key), 3, seconds=3600):
        raise widget.RefusedError(_("The transcript was sent already. Please wait."), status=429)
    email = _email(str(_posted_json(request).get("email", "")))
    if not widget.mail_transcript(conversation, email=email, language=translation.get_language()):
        raise widget.RefusedError(_("The transcript goes only to the address given for this chat."))
    return JsonResponse({"sent": True})


@widget_endpoint
def file(request, channel, token, attachment_id):
    conversation = _conversation_or_403(channel, token)
    item = widget.attachment_of(conversation, attachment_id)
    if item is None:
        raise widget.RefusedError(_("No such file."), status=404)
    if isinstance(request, ASGIRequest):
        return _async_download(item)
    return download_response(item.file, filename=item.filename)


CHUNK = 64 * 1024


def _async_download(item) -> StreamingHttpResponse:
    """``download_response`` for the ASGI server: the file read in chunks off the event loop
    (a synchronous iterator would be read whole into memory by Django's ASGI handler)."""

    async def chunks():
        stored = await sync_to_async(item.file.open)("rb")
        try:
            while chunk := await sync_to_async(stored.read)(CHUNK):
                yield chunk
        finally:
            await sync_to_async(stored.close)()

    response = StreamingHttpResponse(chunks(), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, item.filename)
    response["Content-Length"] = str(item.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the event stream ---------------------------------------------------------------------


def _stream_access(request, key) -> tuple[int, str, str]:
    """(status, origin, conversation key) of a stream request; 200 when it may follow."""
    channel = widget.widget_channel(key)
    if channel is None:
        return 404, "", ""
    origin = request.headers.get("Origin", "")
    if not widget.origin_allowed(channel, origin):
        return 403, "", ""
    conversation = widget.conversation_for(channel, request.GET.get(PARAMETER, ""))
    if conversation is None:
        return 403, origin, ""
    return 200, origin, str(conversation.public_key)


def _stream_access_then_release(request, key) -> tuple[int, str, str]:
    try:
        return _stream_access(request, key)
    finally:
        connections.close_all()  # the stream keeps no database connection open


@csrf_exempt
async def stream(request, key):
    """The live app's stream, following only the visitor's conversation topic.

    Its path ends in ``/live/stream/``: the ASGI handler serves it without a thread.
    """
    status, origin, conversation_key = await sync_to_async(_stream_access_then_release)(
        request, key
    )
    if status == 404:
        raise Http404
    if status != 200:
        response = HttpResponseForbidden()
        return _cors(response, origin) if origin else response
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    query = QueryDict(mutable=True)
    query[PARAMETER] = request.GET.get(PARAMETER, "")
    query["conversation"] = conversation_key
    if request.GET.get("last_event_id"):
        query["last_event_id"] = request.GET["last_event_id"]
    request.GET = query
    request.META.pop(HEADER, None)
    request.user = AnonymousUser()  # a visitor's stream never carries anyone's own topics
    response = await live_views.stream(request)
    return _cors(response, origin)
