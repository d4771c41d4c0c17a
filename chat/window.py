"""WhatsApp's 24-hour customer service window, as the agent meets it on the ticket page.

Outside the window WhatsApp takes only an approved template
(https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).
The agent is told before writing (a panel), and a reply is refused until they confirm that
it goes as the channel's template (its one body parameter carries the reply; files stay
behind), or, without a template, that it will not reach the customer.
"""

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from chat.models import ChatChannel, Conversation
from tickets.panels import Panel
from tickets.states import Channel


def _conversation(ticket) -> Conversation | None:
    if ticket.channel != Channel.WHATSAPP:
        return None
    from chat.outbound import conversation_of

    return conversation_of(ticket)


def _closed_text(conversation: Conversation) -> tuple[str, str]:
    """(what the agent reads, what they tick) when the window is closed."""
    closes = conversation.window_closes_at()
    since = (
        formats.date_format(timezone.localtime(closes), "SHORT_DATETIME_FORMAT") if closes else ""
    )
    channel = conversation.channel
    if channel.template_name:
        return (
            _(
                "The customer's last WhatsApp message is more than 24 hours old (the window "
                "closed %(since)s). WhatsApp now accepts only the approved template "
                "“%(template)s”: your reply is sent as its text, and files are not sent."
            )
            % {"since": since, "template": channel.template_name},
            _("Send my reply as the approved WhatsApp template."),
        )
    return (
        _(
            "The customer's last WhatsApp message is more than 24 hours old (the window "
            "closed %(since)s) and this channel has no approved template: a reply cannot "
            "reach the customer until they write again."
        )
        % {"since": since},
        _("Record my reply anyway: it will not be delivered."),
    )


def window_panels(ticket) -> list[Panel]:
    conversation = _conversation(ticket)
    if conversation is None:
        return []
    title = _("WhatsApp 24-hour window")
    if conversation.window_is_open():
        closes = formats.date_format(
            timezone.localtime(conversation.window_closes_at()), "SHORT_DATETIME_FORMAT"
        )
        text = _("Open until %(time)s: text and files reach the customer.") % {"time": closes}
        return [Panel(title=title, text=text, tone="success", key="whatsapp-window")]
    text, confirm = _closed_text(conversation)
    tone = "warning" if conversation.channel.template_name else "danger"
    return [Panel(title=title, text=text, tone=tone, key="whatsapp-window", confirm_reply=confirm)]


def check_reply(ticket, *, confirmed: bool) -> None:
    """Refuse a reply outside the window that the agent has not confirmed (every route)."""
    conversation = _conversation(ticket)
    if conversation is None or confirmed or conversation.window_is_open():
        return
    if conversation.channel.kind == ChatChannel.Kind.WHATSAPP:
        raise ValidationError(_closed_text(conversation)[0])
