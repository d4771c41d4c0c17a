"""Calls from the PBX, the organisations' plans, call scripts and the intake wizard's drafts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from people.models import Contact, Organization
from people.phones import display_number
from tickets.models import Pool, Product, Ticket, Topic


class PbxIntegration(models.Model):
    """A PBX allowed to report calls to the CTI endpoint; it knows one token, we its digest."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    pool = models.ForeignKey(
        Pool,
        on_delete=models.PROTECT,
        related_name="pbx_integrations",
        verbose_name=_("pool"),
        help_text=_("Its calls pop up for the agents of this pool."),
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=12, editable=False)
    revoked = models.BooleanField(
        _("revoked"), default=False, help_text=_("A revoked PBX's events are refused.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_from = models.GenericIPAddressField(
        _("last used from"), null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("PBX integration")
        verbose_name_plural = _("PBX integrations")

    def __str__(self):
        return self.name


class CallQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Calls of the pools ``user`` works in (every pool for supervisors)."""
        return self.filter(pool__in=Pool.objects.usable_by(user))


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Incoming")
        OUTBOUND = "out", _("Outgoing")

    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Ended")
        MISSED = "missed", _("Missed")

    integration = models.ForeignKey(
        PbxIntegration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("PBX"),
        help_text=_("Empty for a call an agent logged by hand."),
    )
    call_id = models.CharField(_("call id"), max_length=100, blank=True)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction, default=Direction.INBOUND
    )
    from_number = models.CharField(_("from"), max_length=40)
    to_number = models.CharField(_("to"), max_length=40, blank=True)
    # The customer's side in E.164 (from for incoming calls, to for outgoing): what the
    # intake wizard searches by, whole or by its start.
    customer_number = models.CharField(_("customer's number"), max_length=40, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.RINGING)
    pool = models.ForeignKey(
        Pool, on_delete=models.PROTECT, related_name="+", verbose_name=_("pool")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("contact"),
    )
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("ticket"),
    )
    notes = models.TextField(_("notes"), blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            # A PBX repeating an event never makes a second call.
            models.UniqueConstraint(
                fields=["integration", "call_id"],
                condition=Q(integration__isnull=False),
                name="call_unique_per_integration",
            ),
            # Nor one reported through the API (no PBX row: the call id is the pool's).
            models.UniqueConstraint(
                fields=["pool", "call_id"],
                condition=Q(integration__isnull=True) & ~Q(call_id=""),
                name="call_unique_per_pool_without_pbx",
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer_number"],
                name="call_customer_number_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["pool", "-started_at"], name="call_pool_started_idx"),
            models.Index(fields=["-started_at"], name="call_started_idx"),
        ]

    def __str__(self):
        when = f"{self.started_at:%Y-%m-%d %H:%M}"
        return f"{self.get_direction_display()} {self.customer_display} {when}"

    @property
    def customer_display(self) -> str:
        return display_number(self.customer_number) or self.from_number


class Plan(models.Model):
    """A product an organisation contracted, with where it runs and how to get in."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="plans", verbose_name=_("organization")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="plans", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    pools = models.ManyToManyField(
        Pool,
        related_name="plans",
        verbose_name=_("pools"),
        help_text=_("Only agents of these pools see the plan's access logins."),
    )
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organization__name", "product__name"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product"], name="plan_unique_per_organization"
            )
        ]

    def __str__(self):
        return self.name or f"{self.product} - {self.organization}"

    def logins_visible_to(self, user) -> bool:
        """Access logins are for the agents of the plan's pools (supervisors see all pools)."""
        return self.pools.filter(pk__in=Pool.objects.usable_by(user).values("pk")).exists()


class RoutingPoint(models.Model):
    """Where the contracted service lives or is reached: a site, a link, an extension."""

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="routing_points", verbose_name=_("plan")
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("routing point")
        verbose_name_plural = _("routing points")

    def __str__(self):
        return self.name


class AccessLogin(models.Model):
    """A login to the customer's systems, kept encrypted; shown only to the plan's pools."""

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="access_logins", verbose_name=_("plan")
    )
    system = models.CharField(_("system"), max_length=200)
    username = EncryptedTextField(_("login"), blank=True)
    password = EncryptedTextField(_("password"), blank=True)

    class Meta:
        ordering = ["system"]
        verbose_name = _("access login")
        verbose_name_plural = _("access logins")

    def __str__(self):
        return self.system


class CallScript(models.Model):
    """Questions an operator asks on a call, for a plan, a product or a topic; branching."""

    name = models.CharField(_("name"), max_length=200)
    plan = models.ForeignKey(
        Plan,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scripts",
        verbose_name=_("plan"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("topic"),
    )
    first_step = models.ForeignKey(
        "ScriptStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first step"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")

    def __str__(self):
        return self.name


class ScriptStep(models.Model):
    script = models.ForeignKey(
        CallScript, on_delete=models.CASCADE, related_name="steps", verbose_name=_("script")
    )
    title = models.CharField(_("title"), max_length=100)
    question = models.TextField(_("question the operator asks"))
    customer_explanation = models.TextField(_("explanation for the customer"), blank=True)
    operator_explanation = models.TextField(
        _("explanation for the operator"), blank=True, help_text=_("Shown on request.")
    )

    class Meta:
        ordering = ["script", "id"]
        verbose_name = _("script step")
        verbose_name_plural = _("script steps")

    def __str__(self):
        return f"{self.script}: {self.title}"


class ScriptOption(models.Model):
    step = models.ForeignKey(
        ScriptStep, on_delete=models.CASCADE, related_name="options", verbose_name=_("step")
    )
    label = models.CharField(_("answer"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    next_step = models.ForeignKey(
        ScriptStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("next step"),
        help_text=_("Empty: this answer ends the script."),
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("answer option")
        verbose_name_plural = _("answer options")

    def __str__(self):
        return self.label


class ScriptRun(models.Model):
    """One operator going through a script on one call; ``cursor`` is the step on screen."""

    script = models.ForeignKey(CallScript, on_delete=models.PROTECT, related_name="runs")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="script_runs"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cursor = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("script run")
        verbose_name_plural = _("script runs")

    def __str__(self):
        return f"{self.script} {self.started_at:%Y-%m-%d %H:%M}"


class ScriptAnswer(models.Model):
    """An answer given, with the texts as they were asked (scripts change, reports do not)."""

    run = models.ForeignKey(ScriptRun, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    step = models.ForeignKey(ScriptStep, on_delete=models.SET_NULL, null=True, related_name="+")
    option = models.ForeignKey(ScriptOption, on_delete=models.SET_NULL, null=True, related_name="+")
    question = models.TextField()
    answer = models.CharField(max_length=200)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="script_answer_position")
        ]

    def __str__(self):
        return f"{self.question} → {self.answer}"


class IntakeDraft(models.Model):
    """The intake wizard of one agent, between requests: its step and what was chosen."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intake_draft"
    )
    step = models.CharField(max_length=20)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("intake draft")
        verbose_name_plural = _("intake drafts")

    def __str__(self):
        return f"{self.agent} @ {self.step}"
