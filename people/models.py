"""Agents, customers and internal departments."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from people.features import Feature
from people.phones import normalise_number
from people.text import split_keywords


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


# Group names are data (created by a migration); roles are read from group membership.
ROLE_GROUPS = {Role.AGENT: "Agents", Role.SUPERVISOR: "Supervisors", Role.ADMIN: "Administrators"}


class Skill(models.Model):
    """A named list of keywords; an agent holding it is a specialist for matching tickets."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    keywords = models.TextField(
        _("keywords"), help_text=_("Comma- or line-separated words and phrases.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self):
        return self.name

    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)


class AccessProfile(models.Model):
    """What its holders may do (features) and where they work (pools).

    An agent with a profile has exactly its features, whatever their role; without one,
    their role decides (``people.profiles``). A profile with pools makes its holders
    members of exactly those pools (PoolMembership stays the one table every query reads).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    pools = models.ManyToManyField(
        "tickets.Pool",
        blank=True,
        related_name="access_profiles",
        verbose_name=_("pools"),
        help_text=_(
            "Holders work in exactly these pools. None: each agent's pools are set one by one."
        ),
    )
    features = models.JSONField(_("features"), default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("access profile")
        verbose_name_plural = _("access profiles")

    def __str__(self):
        return self.name

    def grants(self, feature: Feature) -> bool:
        return feature in self.features


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    is_junior = models.BooleanField(
        _("junior"), default=False, help_text=_("Replies wait for a supervisor's approval.")
    )
    skills = models.ManyToManyField(
        Skill, blank=True, related_name="agents", verbose_name=_("skills")
    )
    access_profile = models.ForeignKey(
        AccessProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holders",
        verbose_name=_("access profile"),
        help_text=_("Empty: the role decides what the agent may do."),
    )
    signature_text = models.TextField(_("signature"), blank=True)
    signature_image = models.ImageField(_("signature image"), upload_to="signatures/", blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=_("IANA name, e.g. Europe/Warsaw.")
    )
    compact_queue = models.BooleanField(
        _("compact queue"), default=False, help_text=_("One line per ticket in the queue.")
    )

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        permissions = [
            ("see_all_pools", _("Can see and work tickets of every pool")),
            ("approve_reply", _("Can approve replies written by junior agents")),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class AbsenceQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(state=Absence.State.APPROVED)

    def current(self, now=None):
        """Approved absences in force at ``now``: only these hand work to the substitute."""
        now = now or timezone.now()
        return self.approved().filter(starts_at__lte=now, ends_at__gt=now)

    def overlapping(self, starts_at, ends_at):
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Absence(models.Model):
    """A period an agent is away; their substitute sees and pulls their work meanwhile."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("agent"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="substitutions",
        verbose_name=_("substitute"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class State(models.TextChoices):
        REQUESTED = "requested", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    # Recorded by an admin or a supervisor: approved at once; by the agent: requested.
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.APPROVED)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [
            models.Index(fields=["agent", "ends_at"]),
            models.Index(fields=["substitute", "ends_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(substitute=models.F("agent")), name="absence_substitute_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.starts_at:%Y-%m-%d} - {self.ends_at:%Y-%m-%d}"

    @property
    def first_day(self):
        """The first local date away, in the current time zone."""
        return timezone.localtime(self.starts_at).date()

    @property
    def last_day(self):
        """The last local date away (``ends_at`` is the midnight after it)."""
        return (timezone.localtime(self.ends_at) - timedelta(microseconds=1)).date()


class Sector(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")

    def __str__(self):
        return self.name


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    sector = models.ForeignKey(
        Sector, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("sector")
    )
    share_tickets = models.BooleanField(_("members see each other's tickets"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name


class Contact(models.Model):
    """A customer: one person, reachable at several addresses and numbers."""

    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("organization"),
    )
    sector = models.ForeignKey(
        Sector, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("sector")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        verbose_name=_("portal login"),
    )
    role = models.CharField(
        _("role"), max_length=100, blank=True, help_text=_("Their job or position.")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Set when an agent merged this contact into another: everything it had moved there,
    # and the row stays so old links (a bookmarked contact page) lead to the right person.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_contacts",
        verbose_name=_("merged into"),
        editable=False,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name

    @property
    def primary_email(self) -> str:
        # Uses the prefetched list when there is one, so lists stay at a fixed query count.
        emails = list(self.emails.all())
        primary = [e for e in emails if e.is_primary] or emails
        return primary[0].address if primary else ""


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("address"), unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "address"]
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        # Addresses are compared case-insensitively everywhere; store them one way.
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class ContactPhone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", pgettext_lazy("phone type", "Mobile")
        WORK = "work", pgettext_lazy("phone type", "Work")
        HOME = "home", pgettext_lazy("phone type", "Home")
        FAX = "fax", pgettext_lazy("phone type", "Fax")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=40)
    digits = models.CharField(max_length=40, db_index=True, editable=False)
    # The number in E.164 ("+5511987654321"): what a caller is looked up by, whole or by
    # its start; "" when the number cannot be read. See people/phones.py.
    e164 = models.CharField(_("E.164 number"), max_length=20, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.MOBILE)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        indexes = [
            # pattern_ops: on PostgreSQL the one index answers "=" and "LIKE '+5511%'" alike
            # (a plain btree under a non-C collation cannot serve the prefix search).
            models.Index(
                fields=["e164"], name="contactphone_e164_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        self.fill_numbers()
        super().save(*args, **kwargs)

    def fill_numbers(self) -> None:
        """Set the derived columns; bulk_create callers (imports) call it for each row."""
        self.digits = "".join(ch for ch in self.number if ch.isdigit())
        self.e164 = normalise_number(self.number)


class Department(models.Model):
    """An internal team that agents consult by mail (legal, billing, engineering...)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    email = models.EmailField(_("email"))
    response_time = models.DurationField(_("response time"), default=timedelta(hours=24))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("consulted department")
        verbose_name_plural = _("consulted departments")

    def __str__(self):
        return self.name


class SignInLinkQuerySet(models.QuerySet):
    def usable(self, now=None):
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class SignInLink(models.Model):
    """A one-time portal sign-in link mailed to a customer; only its SHA-256 is stored."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="sign_in_links", verbose_name=_("contact")
    )
    address = models.EmailField(_("sent to"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    objects = SignInLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")
        indexes = [models.Index(fields=["address", "-created_at"], name="signinlink_address_idx")]

    def __str__(self):
        return f"{self.address} {self.created_at:%Y-%m-%d %H:%M}"
