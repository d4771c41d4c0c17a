"""Mailboxes we fetch from, every message we fetched (kept whole), and the outbox."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from tickets.models import Message, Pool, Ticket


class Mailbox(models.Model):
    class Kind(models.TextChoices):
        IMAP = "imap", _("IMAP")
        POP3 = "pop3", _("POP3")
        MAILDIR = "maildir", _("Local maildir")

    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (implicit)")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (testing only)")

    class AfterImport(models.TextChoices):
        SEEN = "seen", _("Flag as seen")
        MOVE = "move", _("Move to a folder")
        DELETE = "delete", _("Delete")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.MAILDIR)
    pool = models.ForeignKey(
        Pool, on_delete=models.PROTECT, related_name="mailboxes", verbose_name=_("pool")
    )
    from_address = models.EmailField(_("from address"))
    from_name = models.CharField(_("from name"), max_length=100, blank=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    security = models.CharField(
        _("security"), max_length=10, choices=Security, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=255, blank=True)
    # Encrypted at rest, never rendered back, never filtered on (helpdesk.crypto).
    password = EncryptedTextField(_("password"), blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after_import = models.CharField(
        _("after import"), max_length=10, choices=AfterImport, default=AfterImport.SEEN
    )
    move_to_folder = models.CharField(_("move to folder"), max_length=255, blank=True)
    maildir_path = models.CharField(_("maildir path"), max_length=500, blank=True)
    fetch_interval = models.DurationField(_("fetch every"), default=timedelta(minutes=1))
    active = models.BooleanField(_("active"), default=True)
    auto_reply = models.BooleanField(_("auto-reply to new tickets"), default=True)
    accept_bulk_mail = models.BooleanField(
        _("open tickets from list and bulk mail"),
        default=False,
        help_text=_(
            "Mail with Precedence: bulk, junk or list, a List-Id, or an empty Return-Path "
            "is kept but opens no ticket unless this is on. It is never answered automatically."
        ),
    )
    max_message_mb = models.PositiveIntegerField(
        _("largest message (MB)"),
        null=True,
        blank=True,
        help_text=_("Larger mail is kept unread and refused. Empty: the site default (25 MB)."),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    trusted_authserv_id = models.CharField(
        _("trusted authentication server"),
        max_length=255,
        blank=True,
        help_text=_(
            "The authserv-id of the receiving server whose Authentication-Results headers "
            "this mailbox trusts (e.g. mx.example.com). A reply that fails DMARC there and "
            "would join a ticket by its subject tag or references is held for an agent. "
            "Empty: DMARC is not evaluated."
        ),
    )
    # Sending: the mailbox's own SMTP account. Without a host, its mail goes through the
    # site's (MAILERS["default"]), still From its address. With an OAuth connection and no
    # password, SMTP signs in with XOAUTH2.
    smtp_host = models.CharField(_("SMTP host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), null=True, blank=True)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=255, blank=True)
    smtp_password = EncryptedTextField(_("SMTP password"), blank=True)
    # Fetch state: written by the fetch task only.
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    next_fetch_at = models.DateTimeField(_("next fetch"), default=timezone.now, db_index=True)
    last_fetch_at = models.DateTimeField(_("last fetch"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    # Something an admin should look at (a UIDVALIDITY change): shown on the mailbox until
    # an admin clears it. Written by the fetch task only.
    attention = models.TextField(_("needs attention"), blank=True, editable=False)
    attention_at = models.DateTimeField(_("needs attention since"), null=True, blank=True)
    # The IMAP IDLE listener (mailboxes/idle.py) holds a connection to this mailbox and says so
    # every minute; while it does, polling is only the fallback (MAIL_IDLE_POLL_SECONDS).
    listening_at = models.DateTimeField(_("IDLE listener seen"), null=True, blank=True)
    # One fetch of a mailbox at a time (mailboxes/fetch_claims.py): the claim's token and
    # lease, and whether someone asked for another round while it ran.
    fetch_claim = models.CharField(max_length=32, blank=True, editable=False)
    fetch_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    fetch_again = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self):
        return self.name

    @property
    def oauth_connection(self) -> "OAuthConnection | None":
        """The mailbox's OAuth2 grant, or None when it signs in with a password."""
        try:
            return self.oauth
        except OAuthConnection.DoesNotExist:
            return None

    @property
    def has_own_smtp(self) -> bool:
        return bool(self.smtp_host)

    @property
    def max_message_bytes(self) -> int:
        """The size above which a message is refused: this mailbox's, else the site's."""
        if self.max_message_mb:
            return self.max_message_mb * 2**20
        return settings.MAIL_MAX_MESSAGE_BYTES


class OAuthConnection(models.Model):
    """A mailbox's OAuth2 grant: its fetcher and its SMTP sign in with the access token.

    Written by ``mailboxes.oauth`` only. ``failed_at``: the provider refused to refresh
    (consent revoked, secret expired); the mailbox is not fetched until reconnected.
    """

    mailbox = models.OneToOneField(
        Mailbox, on_delete=models.CASCADE, related_name="oauth", verbose_name=_("mailbox")
    )
    provider = models.CharField(_("provider"), max_length=20)
    account = models.CharField(_("account"), max_length=255)
    access_token = EncryptedTextField(_("access token"), blank=True)
    refresh_token = EncryptedTextField(_("refresh token"), blank=True)
    expires_at = models.DateTimeField(_("access token expires"), null=True, blank=True)
    scope = models.TextField(_("scope"), blank=True)
    connected_at = models.DateTimeField(_("connected"), default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("connected by"),
    )
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    failed_at = models.DateTimeField(_("refresh refused"), null=True, blank=True)
    failure = models.CharField(_("refresh error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("OAuth connection")
        verbose_name_plural = _("OAuth connections")

    def __str__(self):
        return f"{self.mailbox}: {self.account} ({self.provider})"


class RawMessageQuerySet(models.QuerySet):
    def failed(self):
        return self.filter(state=RawMessage.State.FAILED)


def raw_message_path(instance, filename):
    return f"raw/{timezone.now():%Y/%m/%d}/{instance.sha256}.eml"


class RawMessage(models.Model):
    """Every fetched message, stored and committed before it is marked on the server."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Refused")
        # Would join a ticket but failed DMARC: waits for an agent of that ticket's pool.
        QUARANTINED = "quarantined", _("Held for review")

    class Reason(models.TextChoices):
        NONE = "", _("None")
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        BOUNCE = "bounce", _("Bounce")
        DUPLICATE = "duplicate", _("Duplicate")
        OWN_MAIL = "own_mail", _("Our own mail")
        TOO_LARGE = "too_large", _("Too large")
        NO_SENDER = "no_sender", _("No usable sender")
        BULK = "bulk", _("List or bulk mail")
        LOOP = "loop", _("Mail loop")
        DELIVERY_DELAYED = "delivery_delayed", _("Delivery delayed (notice)")
        DMARC_FAIL = "dmarc_fail", _("Failed DMARC")
        UNSTORABLE = "unstorable", _("The database refused its headers")

    # Indexed by the unique (mailbox, uid) and (mailbox, Message-ID) constraints.
    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.PROTECT,
        related_name="raw_messages",
        verbose_name=_("mailbox"),
        db_index=False,
    )
    uid = models.CharField(_("server id"), max_length=255)
    message_id = models.CharField(_("Message-ID"), max_length=255)
    sha256 = models.CharField(max_length=64)  # raw_sha256_idx
    size = models.PositiveBigIntegerField(_("size"), default=0)
    file = models.FileField(_("raw message"), upload_to=raw_message_path, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.NEW)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason, blank=True)
    error = models.TextField(_("error"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_messages"
    )
    ticket_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_messages"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The header's Message-ID was already taken in this mailbox by a different mail: this
    # row is stored under one derived from its content, and processed all the same.
    reused_message_id = models.BooleanField(_("reused Message-ID"), default=False)

    objects = RawMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("raw message")
        verbose_name_plural = _("raw messages")
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uid"], name="raw_unique_mailbox_uid"),
            models.UniqueConstraint(
                fields=["mailbox", "message_id"], name="raw_unique_mailbox_message_id"
            ),
        ]
        indexes = [
            models.Index(fields=["received_at"], condition=Q(state="new"), name="raw_new_idx"),
            models.Index(fields=["state", "-received_at"], name="raw_state_idx"),
            # Looked up by equality only: no second, pattern index (db_index=True's _like).
            models.Index(fields=["sha256"], name="raw_sha256_idx"),
        ]

    def __str__(self):
        return f"{self.mailbox}: {self.message_id}"


class OutgoingEmail(models.Model):
    """One mail to send. The row is the outbox: claimed, sent once, retried with backoff."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Waiting to retry")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        NOTIFICATION = "notification", _("Notification")
        NOTICE = "notice", _("Notice to a sender")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.REPLY)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="outgoing_emails"
    )
    ticket_message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="outgoing_emails"
    )
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_address = models.CharField(_("from"), max_length=255)
    reply_to = models.CharField(_("reply to"), max_length=255, blank=True)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Mail to our own people (reminders, escalations, agents' notifications): sent from
    # the internal_mail queue, so that it never delays mail to customers.
    internal = models.BooleanField(_("internal"), default=False)
    # When a send job for this row was put on the broker; cleared when a worker takes it
    # (or when the enqueue failed). The minute sweep re-enqueues only rows without a job
    # in the broker, or whose job is older than outbound.LOST_JOB_AFTER (really lost).
    enqueued_at = models.DateTimeField(_("enqueued"), null=True, blank=True, default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["queued", "retry", "sending"]),
                name="outgoing_due_idx",
            ),
        ]
        constraints = [
            # One outbox row per reply, whatever races the queueing.
            models.UniqueConstraint(
                fields=["ticket_message"],
                condition=Q(ticket_message__isnull=False),
                name="outgoing_one_per_message",
            ),
        ]

    def __str__(self):
        return f"{self.subject} -> {', '.join(self.to)}"


class OutgoingAttachment(models.Model):
    """A file sent with an outbox row that no ticket message carries (a report's PDF).

    Kept in the row's own transaction, in the database: small files only."""

    outgoing = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("outgoing attachment")
        verbose_name_plural = _("outgoing attachments")

    def __str__(self):
        return self.filename


class EmailTemplate(models.Model):
    """Admin-edited text of one kind of automatic mail, per language and pool or mailbox.

    Without a row the built-in files (``templates/<app>/emails/``) speak; which row wins
    is ``mailboxes.emails.render_email``'s rule.
    """

    class Kind(models.TextChoices):
        AUTO_REPLY = "auto_reply", _("Automatic reply to a new ticket")
        FIRST_MESSAGE = "first_message", _("First message of a ticket an agent opened by email")
        # One per NotificationRule.Event: the rule says who gets the mail, this what it says.
        TICKET_OPENED = "notification.ticket_opened", _("Notification: ticket opened")
        TICKET_TAKEN = "notification.ticket_taken", _("Notification: ticket taken")
        TICKET_STARTED = "notification.ticket_started", _("Notification: work started")
        CUSTOMER_MESSAGE = "notification.customer_message", _("Notification: customer wrote")
        AGENT_MESSAGE = "notification.agent_message", _("Notification: agent replied")
        TICKET_RESOLVED = "notification.ticket_resolved", _("Notification: ticket resolved")
        RESOLUTION_APPROVED = (
            "notification.resolution_approved",
            _("Notification: resolution approved"),
        )
        RESOLUTION_REJECTED = (
            "notification.resolution_rejected",
            _("Notification: resolution rejected"),
        )
        SURVEY_ANSWERED = "notification.survey_answered", _("Notification: survey answered")
        TICKET_CANCELLED = "notification.ticket_cancelled", _("Notification: ticket cancelled")
        SLA_REMINDER = "sla.reminder", _("SLA: deadline approaching (to the agent)")
        SLA_BREACH = "sla.breach", _("SLA: deadline missed (escalation)")
        SLA_CONSULTATION_QUESTION = "sla.consultation_question", _("SLA: question to a department")
        SLA_CONSULTATION_REMINDER = "sla.consultation_reminder", _("SLA: reminder to a department")
        SLA_CONSULTATION_ANSWERED = "sla.consultation_answered", _("SLA: department answered")

    kind = models.CharField(_("kind"), max_length=40, choices=Kind)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    mailbox = models.ForeignKey(
        Mailbox,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="templates",
        verbose_name=_("mailbox"),
        help_text=_("Empty: every mailbox (of the pool, when one is chosen)."),
    )
    pool = models.ForeignKey(
        Pool,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_templates",
        verbose_name=_("pool"),
        help_text=_("Empty: every pool."),
    )
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(
        _("HTML"), blank=True, help_text=_("Empty: the mail is sent as plain text only.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "language", "pool__name", "mailbox__name"]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")

    def __str__(self):
        scope = self.mailbox or self.pool or _("everyone")
        return f"{self.get_kind_display()} ({self.language}, {scope})"

    def clean(self):
        if self.mailbox and self.pool_id and self.mailbox.pool_id != self.pool_id:
            raise ValidationError({"mailbox": _("This mailbox belongs to another pool.")})


class SuppressedAddressQuerySet(models.QuerySet):
    def active(self):
        return self.filter(lifted_at__isnull=True)


class SuppressedAddress(models.Model):
    """An address that bounced permanently: no automatic mail goes to it until lifted."""

    address = models.EmailField(_("address"))
    reason = models.TextField(_("reason"), blank=True)
    dsn_status = models.CharField(_("delivery status"), max_length=20, blank=True)
    bounce = models.ForeignKey(
        RawMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bounce"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ticket"),
    )
    created_at = models.DateTimeField(_("suppressed"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    objects = SuppressedAddressQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [
            # One standing suppression per address; lifted ones stay as history.
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(lifted_at__isnull=True),
                name="suppressed_address_active",
            ),
        ]

    def __str__(self):
        return self.address


class AutoReplyLog(models.Model):
    """When we last answered an address automatically: the per-sender rate limit reads it."""

    address = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("automatic reply log entry")
        verbose_name_plural = _("automatic reply log")
        indexes = [models.Index(fields=["address", "-sent_at"], name="autoreply_address_idx")]

    def __str__(self):
        return f"{self.address} {self.sent_at:%Y-%m-%d %H:%M}"


class NotificationRule(models.Model):
    """Who gets mail when something happens on a ticket; one rule per event (and per pool).

    A pool's own rule replaces the rule for every pool, so a pool can also turn one off.
    """

    class Event(models.TextChoices):
        TICKET_OPENED = "ticket_opened", _("Ticket opened")
        TICKET_TAKEN = "ticket_taken", _("Ticket taken by an agent")
        TICKET_STARTED = "ticket_started", _("Work started")
        CUSTOMER_MESSAGE = "customer_message", _("Customer wrote")
        AGENT_MESSAGE = "agent_message", _("Agent replied")
        TICKET_RESOLVED = "ticket_resolved", _("Ticket resolved")
        RESOLUTION_APPROVED = "resolution_approved", _("Resolution approved")
        RESOLUTION_REJECTED = "resolution_rejected", _("Resolution rejected")
        SURVEY_ANSWERED = "survey_answered", _("Survey answered")
        TICKET_CANCELLED = "ticket_cancelled", _("Ticket cancelled")

    event = models.CharField(_("event"), max_length=30, choices=Event)
    pool = models.ForeignKey(
        Pool,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_rules",
        verbose_name=_("pool"),
        help_text=_("Empty: every pool without a rule of its own."),
    )
    enabled = models.BooleanField(_("on"), default=True)
    to_requester = models.BooleanField(_("requester"), default=False)
    to_assignee = models.BooleanField(_("technician"), default=False)
    to_manager = models.BooleanField(_("manager"), default=False)
    to_watchers = models.BooleanField(_("watchers"), default=False)
    to_pool_members = models.BooleanField(_("pool members"), default=False)
    to_supervisors = models.BooleanField(_("supervisors"), default=False)

    class Meta:
        ordering = ["event", "pool__name"]
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        constraints = [
            models.UniqueConstraint(fields=["event", "pool"], name="notification_rule_per_pool"),
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(pool__isnull=True),
                name="notification_rule_default",
            ),
        ]

    def __str__(self):
        return f"{self.get_event_display()} ({self.pool or _('every pool')})"


class NotificationPreference(models.Model):
    """How one agent wants to hear of the events about them: not, at once, or in a digest.

    One row per agent, made when they first save the page; without a row the defaults
    (``DEFAULTS``) apply, so nobody needs a row to get the usual mail.
    """

    class Topic(models.TextChoices):
        NEW_TICKET = "new_ticket", _("New ticket in my pools")
        ASSIGNED = "assigned", _("Ticket assigned to me")
        CUSTOMER_REPLIED = "customer_replied", _("Customer replied on my ticket")
        MENTION = "mention", _("Mentioned in an internal note")
        SLA_WARNING = "sla_warning", _("SLA warning or breach on my ticket")

    class Delivery(models.TextChoices):
        OFF = "off", _("Off")
        IMMEDIATE = "immediate", _("Immediately")
        DIGEST = "digest", _("In my digest")

    class Period(models.TextChoices):
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")

    DEFAULTS = {
        Topic.NEW_TICKET: Delivery.OFF,
        Topic.ASSIGNED: Delivery.IMMEDIATE,
        Topic.CUSTOMER_REPLIED: Delivery.IMMEDIATE,
        Topic.MENTION: Delivery.IMMEDIATE,
        Topic.SLA_WARNING: Delivery.IMMEDIATE,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    new_ticket = models.CharField(
        Topic.NEW_TICKET.label, max_length=10, choices=Delivery, default=Delivery.OFF
    )
    assigned = models.CharField(
        Topic.ASSIGNED.label, max_length=10, choices=Delivery, default=Delivery.IMMEDIATE
    )
    customer_replied = models.CharField(
        Topic.CUSTOMER_REPLIED.label, max_length=10, choices=Delivery, default=Delivery.IMMEDIATE
    )
    mention = models.CharField(
        Topic.MENTION.label, max_length=10, choices=Delivery, default=Delivery.IMMEDIATE
    )
    sla_warning = models.CharField(
        Topic.SLA_WARNING.label, max_length=10, choices=Delivery, default=Delivery.IMMEDIATE
    )
    digest_period = models.CharField(
        _("digest"), max_length=10, choices=Period, default=Period.DAILY
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)

    def delivery(self, topic: str) -> str:
        return getattr(self, topic)


class PendingNotificationQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(claimed_at__isnull=True)


class PendingNotification(models.Model):
    """One event an agent chose to read in their digest, until the digest mail takes it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_notifications"
    )
    topic = models.CharField(max_length=20, choices=NotificationPreference.Topic)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the one digest run that claims the row (a conditional UPDATE), with its mail.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    outgoing = models.ForeignKey(
        OutgoingEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PendingNotificationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(claimed_at__isnull=True),
                name="pending_notification_unsent",
            )
        ]

    def __str__(self):
        return f"{self.user} {self.topic} {self.ticket_id}"
