"""API tokens, the service accounts that bots act as, and contact tokens' app sessions."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Pool


class ServiceAccount(models.Model):
    """A named bot (a chatbot, the PBX, an integration). Its user has no usable password, so
    nobody signs in as it; what its tokens do is logged under its name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="service_account",
        verbose_name=_("user"),
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["user__first_name"]
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Not revoked, not expired, and owned by an active user."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
            owner__is_active=True,
        )


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("owner"),
    )
    scope = models.CharField(_("access"), max_length=10, choices=Scope, default=Scope.READ)
    pools = models.ManyToManyField(
        Pool,
        blank=True,
        related_name="+",
        verbose_name=_("pools"),
        help_text=_("None: every pool the owner works in."),
    )
    # Only the digest is kept (helpdesk.tokens); the hint tells tokens apart in lists.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("starts with"), max_length=12, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_address = models.GenericIPAddressField(_("last address"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["owner", "-created_at"], name="apitoken_owner_idx")]

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ContactTokenQuerySet(models.QuerySet):
    def active(self, now=None):
        """Neither revoked nor expired: sessions an app may still use."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def visible_to(self, user):
        """Sessions on channels of ``user``'s pools (every pool for supervisors, admins)."""
        return self.filter(channel__pool__in=Pool.objects.usable_by(user))


class ContactToken(models.Model):
    """One contact token handed to a customer's app (an "app session"): the signed token
    names this row, so revoking the row stops the token at its next request."""

    class Reason(models.TextChoices):
        SIGNED_OUT = "signed_out", _("Signed out in the app")
        AGENT = "agent", _("Signed out by an agent")
        MERGED = "merged", _("Contact merged into another")

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    contact = models.ForeignKey(
        "people.Contact",
        on_delete=models.CASCADE,
        related_name="app_sessions",
        verbose_name=_("contact"),
    )
    channel = models.ForeignKey(
        "chat.ChatChannel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("channel"),
    )
    device = models.CharField(_("device"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("why revoked"), max_length=20, choices=Reason, blank=True)

    objects = ContactTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("app session")
        verbose_name_plural = _("app sessions")
        indexes = [models.Index(fields=["contact", "-created_at"], name="contacttoken_contact_idx")]

    def __str__(self):
        return f"{self.contact} · {self.device or self.key}"

    # Read by tickets.services.contact_merge (no import): a merged contact's app sessions
    # are signed out and stay with the merged row instead of moving to the survivor.
    contact_merge_note = _("signed out, not moved")

    @classmethod
    def on_contact_merge(cls, *, source, into, actor) -> None:
        from api.contact_sessions import revoke_contact_tokens

        revoke_contact_tokens(
            cls.objects.filter(contact=source), actor=actor, reason=cls.Reason.MERGED
        )
