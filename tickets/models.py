"""Tickets, their messages and history, and the pools agents work them from."""

import re
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from people.models import Contact
from people.text import split_keywords
from tickets.html import has_remote_images, sanitize_html, split_quoted
from tickets.querysets import (
    CannedResponseQuerySet,
    PoolQuerySet,
    TagQuerySet,
    TicketQuerySet,
)
from tickets.states import OPEN_STATUSES, Channel, Priority, Status


class Pool(models.Model):
    """A work queue. Mailboxes feed it; its members pull from it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    customer_name = models.CharField(
        _("name for customers"),
        max_length=100,
        blank=True,
        help_text=_("What customers see in the portal and in mail; empty: the name above."),
    )
    customers_set_priority = models.BooleanField(
        _("customers may choose the priority"),
        default=False,
        help_text=_("Off: tickets customers open here start at normal priority."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="PoolMembership",
        related_name="pools",
        verbose_name=_("members"),
    )

    objects = PoolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")

    def __str__(self):
        return self.name

    @property
    def customer_facing_name(self) -> str:
        return self.customer_name or self.name


class PoolMembership(models.Model):
    pool = models.ForeignKey(
        Pool, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("pool")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pool_memberships",
        verbose_name=_("agent"),
    )
    pull_priority = models.PositiveSmallIntegerField(
        _("pull priority"), default=1, help_text=_("1 is pulled first, then 2, and so on.")
    )

    class Meta:
        ordering = ["pull_priority", "pool__name"]
        verbose_name = _("pool membership")
        verbose_name_plural = _("pool memberships")
        constraints = [
            models.UniqueConstraint(fields=["pool", "user"], name="unique_pool_membership")
        ]

    def __str__(self):
        return f"{self.user} @ {self.pool} ({self.pull_priority})"


class KeywordCatalogEntry(models.Model):
    """A named entry that mail is classified into by its keywords (topics, products)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    keywords = models.TextField(_("keywords"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)


class Topic(KeywordCatalogEntry):
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority, default=Priority.NORMAL
    )
    pools = models.ManyToManyField(
        Pool,
        blank=True,
        related_name="topics",
        verbose_name=_("pools"),
        help_text=_("The departments customers may choose this service in; empty: all of them."),
    )

    class Meta(KeywordCatalogEntry.Meta):
        verbose_name = _("topic")
        verbose_name_plural = _("topics")


class Product(KeywordCatalogEntry):
    class Meta(KeywordCatalogEntry.Meta):
        verbose_name = _("product")
        verbose_name_plural = _("products")


class Tag(models.Model):
    name = models.SlugField(_("name"), max_length=50, unique=True, allow_unicode=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class TicketSequence(models.Model):
    """Last number handed out per year; incremented under a row lock."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket number sequence")
        verbose_name_plural = _("ticket number sequences")

    def __str__(self):
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    # No single-column index on requester, pool or assignee: the composite indexes below
    # lead with them (ticket_requester_idx, ticket_pool_created_idx,
    # ticket_assignee_status_idx), and every index is written again on each new ticket
    # and each change to one.
    requester = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("requester"),
        db_index=False,
    )
    pool = models.ForeignKey(
        Pool,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("pool"),
        db_index=False,
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("topic")
    )
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("product")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.NEW)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.EMAIL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("technician"),
        db_index=False,
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_tickets",
        verbose_name=_("manager"),
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="watched_tickets",
        verbose_name=_("watchers"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    linked_tickets = models.ManyToManyField("self", blank=True, verbose_name=_("linked tickets"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    # The earliest running SLA deadline, kept up to date by the sla app (None: no clock is
    # running, e.g. paused while waiting for the customer). Denormalised for the queue.
    due_at = models.DateTimeField(_("due"), null=True, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Next ticket and the "waiting" tab: per pool, in priority then age order.
            models.Index(
                fields=["pool", "-priority", "created_at", "id"],
                condition=Q(status="new", assignee__isnull=True),
                name="ticket_waiting_pool_idx",
            ),
            # "My tickets": an agent's open work, newest first, without sorting it all.
            models.Index(
                fields=["assignee", "-created_at"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_assignee_open_idx",
            ),
            models.Index(fields=["-created_at"], name="ticket_created_idx"),
            models.Index(fields=["pool", "-created_at"], name="ticket_pool_created_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created_idx"),
            models.Index(fields=["-updated_at"], name="ticket_updated_idx"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_idx"),
            models.Index(
                fields=["due_at"], condition=Q(due_at__isnull=False), name="ticket_due_idx"
            ),
        ]

    def __str__(self):
        return f"[#{self.number}] {self.subject}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.number])

    @property
    def tag_label(self) -> str:
        return f"[#{self.number}]"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Approval(models.TextChoices):
    NOT_NEEDED = "", _("Not needed")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for changes")


class Message(models.Model):
    class Kind(models.TextChoices):
        INBOUND = "inbound", _("From the customer")
        OUTBOUND = "outbound", _("Reply")
        NOTE = "note", _("Internal note")
        # A question to an internal department, or its answer: never shown to the customer.
        CONSULTATION = "consultation", _("Consultation")

    # Indexed by message_ticket_created_idx (ticket first).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    body_text = models.TextField(_("text"), blank=True)
    # The HTML as received; sanitized with nh3 every time it is shown.
    body_html = models.TextField(_("HTML"), blank=True)
    message_id = models.CharField(max_length=255, blank=True)  # message_message_id_idx
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Replies by junior agents wait for a supervisor; nothing is sent while pending.
    approval = models.CharField(
        _("approval"), max_length=10, choices=Approval, default=Approval.NOT_NEEDED, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    # What a junior's reply carries besides its text and files, held with the draft and
    # applied only when a supervisor approves it (tickets.services.approval); dropped when
    # the reply is returned. Empty: the reply changes no status beyond starting the work.
    held_status = models.CharField(
        _("status on approval"), max_length=20, choices=Status, blank=True
    )
    # The reply form's key, made when the page rendered: a form sent twice (a retry after
    # an error, a double click) finds the reply it already made instead of a second one.
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "author_user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="message_one_per_form_submission",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created_idx"),
            models.Index(
                fields=["created_at"],
                condition=Q(approval="pending"),
                name="message_pending_approval_idx",
            ),
            # Looked up by equality only: no second, pattern index (db_index=True's _like).
            models.Index(fields=["message_id"], name="message_message_id_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_sendable(self) -> bool:
        """Only replies that need no approval, or got it, may ever leave."""
        return self.kind == self.Kind.OUTBOUND and self.approval in (
            Approval.NOT_NEEDED,
            Approval.APPROVED,
        )

    def _inline_image_urls(self) -> dict[str, str]:
        # Uses the prefetched attachments and the ticket cached by the prefetch.
        number = self.ticket.number
        return {
            item.content_id: reverse("tickets:attachment_inline", args=[number, item.pk])
            for item in self.attachments.all()
            if item.content_id
        }

    @property
    def safe_html(self) -> str:
        """The HTML as sanitized for display: our inline images, no remote ones."""
        if not self.body_html:
            return ""
        return sanitize_html(self.body_html, inline_images=self._inline_image_urls())

    @property
    def safe_html_with_images(self) -> str:
        """The same, with remote images too: only when the agent asked for them."""
        return sanitize_html(
            self.body_html, allow_remote_images=True, inline_images=self._inline_image_urls()
        )

    @property
    def has_remote_images(self) -> bool:
        return has_remote_images(self.body_html)

    @property
    def text_parts(self) -> tuple[str, str]:
        """(new text, quoted history) for folding; storage keeps the whole text."""
        return split_quoted(self.body_text)

    @property
    def author_name(self) -> str:
        if self.author_user is not None:
            return self.author_user.get_full_name() or self.author_user.get_username()
        if self.author_contact is not None:
            return self.author_contact.name
        return str(_("System"))


def attachment_path(instance, filename):
    # A generated name: never trust the sender's path or extension for storage.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


MAX_FILENAME = 200
_EXTENSION = re.compile(r"\.[^.\s]{1,16}$")


def clean_filename(name: str) -> str:
    """A display name without any directory part or control characters, at most 200 long.

    A longer name has the end of its stem cut: the extension stays, so the file
    still opens with the right program.
    """
    base = _display_name(name)
    if len(base) > MAX_FILENAME:
        match = _EXTENSION.search(base)
        extension = match.group(0) if match else ""
        base = base[: MAX_FILENAME - len(extension)].rstrip() + extension
    return base or "attachment"


def shortened_from(name: str) -> str:
    """The name clean_filename shortened (for the page to say so), or "" when it was not."""
    base = _display_name(name)
    return base[:1000] if len(base) > MAX_FILENAME else ""


def _display_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    filename = models.CharField(_("file name"), max_length=255)
    # The name as sent, when ``filename`` had to be shortened (empty otherwise).
    original_filename = models.TextField(_("original file name"), blank=True)
    content_type = models.CharField(_("content type"), max_length=150, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    # Inline images of mail HTML refer to their part by Content-ID ("cid:...").
    content_id = models.CharField(_("Content-ID"), max_length=255, blank=True)
    is_inline = models.BooleanField(_("inline"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("tickets:attachment", args=[self.ticket.number, self.pk])


class ActivityLog(models.Model):
    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Technician changed")
        MANAGER = "manager", _("Manager changed")
        PRIORITY = "priority", _("Priority changed")
        TOPIC = "topic", _("Topic changed")
        PRODUCT = "product", _("Product changed")
        POOL = "pool", _("Pool changed")
        WATCHER_ADDED = "watcher_added", _("Watcher added")
        WATCHER_REMOVED = "watcher_removed", _("Watcher removed")
        TAG_ADDED = "tag_added", _("Tag added")
        TAG_REMOVED = "tag_removed", _("Tag removed")
        REPLY = "reply", _("Reply")
        NOTE = "note", _("Internal note")
        CUSTOMER_MESSAGE = "customer_message", _("Customer message")
        MERGED = "merged", _("Merged")
        REOPENED = "reopened", _("Reopened")
        PULLED = "pulled", _("Pulled with Next ticket")
        ROUTED = "routed", _("Routed")
        CLASSIFIED = "classified", _("Classified")
        APPROVAL_REQUESTED = "approval_requested", _("Reply waiting for approval")
        REPLY_APPROVED = "reply_approved", _("Reply approved")
        REPLY_RETURNED = "reply_returned", _("Reply returned")
        LINKED = "linked", _("Linked to another ticket")
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        DELIVERY_DELAYED = "delivery_delayed", _("Delivery delayed")
        MAIL_SENT = "mail_sent", _("Mail sent")
        SLA_POLICY = "sla_policy", _("Service level changed")
        SLA_REMINDER = "sla_reminder", _("Deadline reminder sent")
        SLA_BREACHED = "sla_breached", _("Deadline missed")
        SLA_ESCALATED = "sla_escalated", _("Escalated")
        CONSULTATION_ASKED = "consultation_asked", _("Department consulted")
        CONSULTATION_ANSWERED = "consultation_answered", _("Department answered")
        CONSULTATION_REMINDER = "consultation_reminder", _("Department reminded")
        MAIL_HELD = "mail_held", _("Mail held for review")
        MAIL_RELEASED = "mail_released", _("Held mail released")
        MAIL_REJECTED = "mail_rejected", _("Held mail rejected")
        REQUESTER_MERGED = "requester_merged", _("Requester's contact merged")

    # Indexed by activity_ticket_created_idx (ticket first).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="activity", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=30, choices=Action)
    before = models.CharField(_("before"), max_length=255, blank=True)
    after = models.CharField(_("after"), max_length=255, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activity log")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="activity_ticket_created_idx")
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.action}"

    def _value_label(self, value: str) -> str:
        # Codes are stored, labels are shown in the reader's language.
        if self.action == self.Action.STATUS and value in Status.values:
            return str(Status(value).label)
        if (
            self.action == self.Action.PRIORITY
            and value.isdigit()
            and int(value) in Priority.values
        ):
            return str(Priority(int(value)).label)
        return value

    @property
    def detail_label(self) -> str:
        # System texts are stored in English (marked with gettext_noop) and translated here;
        # text a person typed has no catalog entry and comes back unchanged.
        return gettext(self.detail) if self.detail else ""

    @property
    def before_label(self) -> str:
        return self._value_label(self.before)

    @property
    def after_label(self) -> str:
        return self._value_label(self.after)


class CannedResponse(models.Model):
    """Reusable reply text. Personal when it has an owner, shared with a pool otherwise."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_("Placeholders: {customer_name}, {ticket_number}, {agent_name}, {subject}."),
    )
    urls = models.TextField(_("links"), blank=True, help_text=_("One URL per line."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        verbose_name=_("owner"),
    )
    pool = models.ForeignKey(
        Pool,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
        verbose_name=_("pool"),
        help_text=_("Leave both owner and pool empty to share with everyone."),
    )

    objects = CannedResponseQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self):
        return self.title

    def url_list(self) -> list[str]:
        return [line.strip() for line in self.urls.splitlines() if line.strip()]


class CannedResponseFile(models.Model):
    canned_response = models.ForeignKey(
        CannedResponse, on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(_("file"), upload_to="canned/")
    filename = models.CharField(_("file name"), max_length=255)

    class Meta:
        verbose_name = _("canned response file")
        verbose_name_plural = _("canned response files")

    def __str__(self):
        return self.filename


class TicketPresence(models.Model):
    """Who has a ticket open right now, refreshed by the page while it stays open."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_replying = models.BooleanField(default=False)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket presence")
        verbose_name_plural = _("ticket presences")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="unique_ticket_presence")
        ]

    def __str__(self):
        return f"{self.user_id} on {self.ticket_id}"


class TicketSearch(models.Model):
    """A ticket's words for full-text search (``tickets.search``), rebuilt after changes."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search_doc"
    )
    document = models.TextField(blank=True)
    indexed_at = models.DateTimeField(db_index=True)
    # The language the thread's words were put in dictionary form in, and a fingerprint of
    # the text it was told from (subject and first message): a rebuild tells it again only
    # when that text changed.
    language = models.CharField(max_length=10, blank=True, default="")
    language_key = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self):
        return f"{self.ticket_id}"


class TicketStar(models.Model):
    """An agent's favourite ticket (a "starred conversation"): their own, nobody else sees it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="stars")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("starred ticket")
        verbose_name_plural = _("starred tickets")
        constraints = [
            models.UniqueConstraint(fields=["user", "ticket"], name="ticket_star_once"),
        ]

    def __str__(self):
        return f"{self.user_id} ★ {self.ticket_id}"


class MessageTag(models.Model):
    """A tag on one message of a thread (the ticket's own tags say what the whole is about)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="message_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="message_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tag__name"]
        verbose_name = _("message tag")
        verbose_name_plural = _("message tags")
        constraints = [
            models.UniqueConstraint(fields=["message", "tag"], name="message_tag_once"),
        ]

    def __str__(self):
        return f"{self.message_id}: {self.tag_id}"


class SavedViewQuerySet(models.QuerySet):
    def usable_by(self, user):
        """The agent's own views and the views shared with every agent, in tab order."""
        return self.filter(Q(owner=user) | Q(shared=True)).order_by(
            "-shared", "position", "name", "pk"
        )


class SavedView(models.Model):
    """A named set of queue filters, shown as a tab above the queue (personal or shared)."""

    name = models.CharField(_("name"), max_length=60)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_views",
        verbose_name=_("owner"),
    )
    shared = models.BooleanField(
        _("shared with every agent"),
        default=False,
        help_text=_("Each agent sees the tickets of their own pools in it."),
    )
    # The queue's query string (its filters, its tab, its sort); read back through the same
    # filter form as the queue, so it can never reach beyond what the reader may see.
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self):
        return self.name
