"""The widget visitor's signed token: the only key to a conversation's live topic.

A visitor has no account: the widget is handed ``visitor_token(conversation)`` when the
conversation starts and shows it back (``?visitor=`` on the live stream, or the
``X-Chat-Visitor`` header on the widget's own requests). The token names one conversation
by its public key, is signed with SECRET_KEY (salted, so no other signed value passes for
it) and expires; it is useless for anything else.
"""

from django.core import signing

SALT = "chat.visitor"
MAX_AGE = 60 * 60 * 24 * 30  # a month: the widget gets a fresh one with each new message
PARAMETER = "visitor"
HEADER = "HTTP_X_CHAT_VISITOR"


def visitor_token(conversation) -> str:
    return signing.dumps({"conversation": str(conversation.public_key)}, salt=SALT)


def conversation_key_of(token: str) -> str | None:
    """The conversation key a valid token names, else None (forged, expired, other salt)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    return data.get("conversation") if isinstance(data, dict) else None


def may_follow_conversation(request, key: str) -> bool:
    """live.access rule for ``conversation:<key>``: the visitor holding its token."""
    token = request.GET.get(PARAMETER) or request.META.get(HEADER, "")
    return bool(token) and conversation_key_of(token) == key


def register_live_rule() -> None:
    """Let the visitor's browser follow ``conversation:<key>`` (LIVE_SPEC.md)."""
    from live import access

    access.register("conversation", may_follow_conversation)
