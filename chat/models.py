"""Chat channels, their conversations, and every message that crossed a platform.

A conversation is one customer on one channel (a Telegram chat, a WhatsApp number, a
Messenger PSID, a widget visitor); its messages are the ticket's messages, so routing,
SLA, surveys and reports treat a chat like any other ticket. ``ChatMessage`` is the
platform's side of each message: the inbound record (deduplicated on the platform's id)
and the outbound outbox row (queued -> sending -> sent -> delivered -> read, or retry ->
failed), claimed like the mail outbox so nothing is sent twice.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from people.models import Contact
from sla.models import BusinessCalendar
from tickets.models import Attachment, Message, Pool, Ticket
from tickets.states import Channel

# WhatsApp: a free-form message may be sent only within 24 hours of the customer's last
# message; after that only an approved template ("customer service window").
WHATSAPP_WINDOW = timedelta(hours=24)


class ChatChannel(models.Model):
    class Kind(models.TextChoices):
        WIDGET = "widget", _("Website chat widget")
        TELEGRAM = "telegram", _("Telegram")
        WHATSAPP = "whatsapp", _("WhatsApp")
        MESSENGER = "messenger", _("Facebook Messenger")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    active = models.BooleanField(_("active"), default=True)
    # In the webhook URL and the widget's embed code: not guessable, not a database id.
    public_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pool = models.ForeignKey(Pool, on_delete=models.PROTECT, verbose_name=_("pool"))
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("Outside its working hours a new conversation gets the out-of-hours text."),
    )
    greeting = models.TextField(
        _("greeting"), blank=True, help_text=_("Sent when a customer starts a conversation.")
    )
    out_of_hours_text = models.TextField(
        _("out-of-hours text"),
        blank=True,
        help_text=_("Sent instead of the greeting outside the calendar's working hours."),
    )
    reopen_closed = models.BooleanField(
        _("reopen closed tickets"),
        default=True,
        help_text=_(
            "A message after the ticket was resolved or closed reopens it; otherwise it "
            "starts a new ticket."
        ),
    )
    # Conversation lifecycle (chat/lifecycle.py).
    close_resolved_after = models.PositiveIntegerField(
        _("close resolved chats after (minutes)"),
        null=True,
        blank=True,
        help_text=_("Quiet time after which a resolved chat closes. Empty: the pool's rule."),
    )
    reopen_within_days = models.PositiveIntegerField(
        _("reopen within (days)"),
        null=True,
        blank=True,
        help_text=_(
            "A message this many days after the chat was resolved or closed reopens it; a "
            "later one starts a new ticket linked to the old one. Empty: always reopen."
        ),
    )
    # Platform access. Empty base URL: the platform's own (tests point it at a local server).
    api_base_url = models.URLField(
        _("API base URL"), blank=True, help_text=_("Empty: the platform's public API.")
    )
    api_version = models.CharField(
        _("Graph API version"), max_length=10, blank=True, default="v21.0"
    )
    account_id = models.CharField(
        _("account ID"),
        max_length=100,
        blank=True,
        help_text=_("WhatsApp: the phone number ID. Messenger: the Page ID."),
    )
    access_token = EncryptedTextField(
        _("access token"),
        blank=True,
        help_text=_("Telegram: the bot token. WhatsApp and Messenger: the access token."),
    )
    app_secret = EncryptedTextField(
        _("app secret"),
        blank=True,
        help_text=_("WhatsApp and Messenger: the Meta app secret that signs webhooks."),
    )
    webhook_secret = EncryptedTextField(
        _("webhook secret"),
        blank=True,
        help_text=_(
            "Telegram: the secret_token given to setWebhook. WhatsApp and Messenger: the "
            "verify token of the webhook subscription."
        ),
    )
    template_name = models.CharField(
        _("template outside the 24-hour window"),
        max_length=512,
        blank=True,
        help_text=_(
            "WhatsApp: an approved template with one body parameter, which carries the reply."
        ),
    )
    template_language = models.CharField(_("template language"), max_length=15, blank=True)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_("Website widget: the sites that may embed it, one origin per line."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self):
        return self.name

    @property
    def ticket_channel(self) -> str:
        """The Ticket.channel value of this channel's tickets."""
        return {
            self.Kind.WIDGET: Channel.CHAT,
            self.Kind.TELEGRAM: Channel.TELEGRAM,
            self.Kind.WHATSAPP: Channel.WHATSAPP,
            self.Kind.MESSENGER: Channel.MESSENGER,
        }[self.Kind(self.kind)]

    def text_for(self, language: str) -> tuple[str, str]:
        """(greeting, out-of-hours text) in ``language`` when translated, else the defaults."""
        translated = {row.language: row for row in self.texts.all()}.get(language)
        greeting, out_of_hours = self.greeting, self.out_of_hours_text
        if translated is not None:
            greeting = translated.greeting or greeting
            out_of_hours = translated.out_of_hours_text or out_of_hours
        return greeting, out_of_hours


class ChannelText(models.Model):
    """The greeting and out-of-hours text of a channel in one more language."""

    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    greeting = models.TextField(_("greeting"), blank=True)
    out_of_hours_text = models.TextField(_("out-of-hours text"), blank=True)

    class Meta:
        verbose_name = _("translated text")
        verbose_name_plural = _("translated texts")
        constraints = [
            models.UniqueConstraint(fields=["channel", "language"], name="chat_text_per_language")
        ]

    def __str__(self):
        return f"{self.channel} ({self.language})"


class Conversation(models.Model):
    """One customer on one channel; ``ticket`` is the ticket their messages go to now."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    channel = models.ForeignKey(
        ChatChannel,
        on_delete=models.PROTECT,
        related_name="conversations",
        verbose_name=_("channel"),
    )
    # The live topic and the widget's visitor token name it by this, never by its id.
    public_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Telegram chat id, WhatsApp number (wa_id), Messenger PSID, widget visitor id.
    external_id = models.CharField(_("platform chat ID"), max_length=100)
    external_name = models.CharField(_("name on the platform"), max_length=200, blank=True)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("contact"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("ticket"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.OPEN)
    # The customer's last message: WhatsApp's 24-hour window runs from it.
    last_inbound_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="chat_one_conversation_per_chat"
            )
        ]

    def __str__(self):
        return f"{self.channel}: {self.external_name or self.external_id}"

    def window_closes_at(self):
        """WhatsApp: when free-form replies stop being allowed (None: never opened)."""
        if self.last_inbound_at is None:
            return None
        return self.last_inbound_at + WHATSAPP_WINDOW

    def window_is_open(self, now=None) -> bool:
        """Whether a free-form message may be sent now (always, except on WhatsApp)."""
        if self.channel.kind != ChatChannel.Kind.WHATSAPP:
            return True
        closes = self.window_closes_at()
        return closes is not None and (now or timezone.now()) < closes


class ChatMessage(models.Model):
    """A message as the platform knows it: inbound record, or outbound outbox row."""

    class Direction(models.TextChoices):
        IN = "in", _("From the customer")
        OUT = "out", _("To the customer")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        DOCUMENT = "document", _("Document")
        TEMPLATE = "template", _("Template")

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("Waiting to retry")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="chat_messages"
    )
    # The ticket it belongs to (kept when the conversation moves on to a new ticket).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="chat_messages"
    )
    # The ticket message it carries (None: an automatic greeting or out-of-hours text).
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="chat_parts"
    )
    # Outbound: one row per part (0 the text, then one per file), each sent exactly once.
    part = models.PositiveSmallIntegerField(default=0)
    attachment = models.ForeignKey(
        Attachment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(max_length=3, choices=Direction)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.TEXT)
    text = models.TextField(blank=True)
    platform_message_id = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=10, choices=State)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            # A platform's message id is seen once per chat: a redelivery is not stored twice.
            models.UniqueConstraint(
                fields=["conversation", "direction", "platform_message_id"],
                condition=~Q(platform_message_id=""),
                name="chat_platform_message_once",
            ),
            models.UniqueConstraint(
                fields=["message", "part"],
                condition=Q(message__isnull=False, direction="out"),
                name="chat_outbound_part_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["queued", "retry", "sending"]),
                name="chat_outbox_due_idx",
            ),
            models.Index(fields=["channel", "platform_message_id"], name="chat_platform_id_idx"),
            models.Index(fields=["ticket", "created_at"], name="chat_ticket_idx"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.kind} {self.state}"


class InboundEvent(models.Model):
    """One webhook event as the platform sent it, stored before anything is done with it.

    ``key`` is the platform's own identity of the event (Telegram's update_id, WhatsApp's
    message id or status, Messenger's mid or watermark): a redelivered webhook finds its
    row and is ignored. Processing is claimed, retried with back-off, and a failure stays
    here with its error (admin: process again).
    """

    class State(models.TextChoices):
        NEW = "new", _("New")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=255)
    payload = models.JSONField()
    state = models.CharField(max_length=12, choices=State, default=State.NEW)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="chat_event_once")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["new", "processing"]),
                name="chat_event_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.channel} {self.key}"
