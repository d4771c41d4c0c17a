"""Workflows around people: role groups, agents, absences, customers' portal logins."""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from people.models import (
    ROLE_GROUPS,
    Absence,
    AgentProfile,
    Contact,
    ContactEmail,
    ContactPhone,
    Organization,
    Role,
    SignInLink,
)

# Permissions each role group carries; supervisors and admins inherit the agent's.
_AGENT_PERMS = ["people.view_contact", "people.change_contact"]
_SUPERVISOR_PERMS = [
    *_AGENT_PERMS,
    "people.see_all_pools",
    "people.approve_reply",
    "knowledge.write_articles",
]
ROLE_PERMISSIONS = {
    Role.AGENT: _AGENT_PERMS,
    Role.SUPERVISOR: _SUPERVISOR_PERMS,
    Role.ADMIN: _SUPERVISOR_PERMS,
}


def ensure_role_groups() -> None:
    """Create the role groups with their permissions; safe to re-run (runs after migrate)."""
    for role, group_name in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm:
                perms.append(perm)
        group.permissions.add(*perms)


@transaction.atomic
def create_agent(
    *,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    role: Role = Role.AGENT,
    is_junior: bool = False,
):
    """Create a user with an agent profile in the role's group; returns the user."""
    ensure_role_groups()
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    AgentProfile.objects.create(user=user, is_junior=is_junior)
    user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return user


def _check_absence(agent, *, starts_at, ends_at, substitute, exclude=None) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The end must be after the start.")})
    if substitute is not None:
        if substitute.pk == agent.pk:
            raise ValidationError({"substitute": _("Choose someone else as substitute.")})
        if not substitute.is_active or not hasattr(substitute, "agent_profile"):
            raise ValidationError({"substitute": _("The substitute must be an active agent.")})
    clashes = (
        Absence.objects.filter(agent=agent)
        .exclude(state=Absence.State.REJECTED)
        .overlapping(starts_at, ends_at)
    )
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude.pk)
    if clashes.exists():
        raise ValidationError(_("This overlaps another absence of the same agent."))


@transaction.atomic
def request_absence(agent, *, starts_at, ends_at, substitute=None, reason="") -> Absence:
    """The agent records their own absence; it counts once a supervisor approves it."""
    _check_absence(agent, starts_at=starts_at, ends_at=ends_at, substitute=substitute)
    return Absence.objects.create(
        agent=agent,
        starts_at=starts_at,
        ends_at=ends_at,
        substitute=substitute,
        reason=reason,
        state=Absence.State.REQUESTED,
        requested_at=timezone.now(),
    )


@transaction.atomic
def decide_absence(absence: Absence, *, approve: bool, by, **changes) -> Absence:
    """A supervisor approves (perhaps with other dates or substitute) or rejects a request."""
    absence = Absence.objects.select_for_update().get(pk=absence.pk)
    for field in ("starts_at", "ends_at", "substitute"):
        if field in changes:
            setattr(absence, field, changes[field])
    if approve:
        _check_absence(
            absence.agent,
            starts_at=absence.starts_at,
            ends_at=absence.ends_at,
            substitute=absence.substitute,
            exclude=absence,
        )
    absence.state = Absence.State.APPROVED if approve else Absence.State.REJECTED
    absence.decided_by = by
    absence.decided_at = timezone.now()
    absence.save()
    return absence


@transaction.atomic
def withdraw_absence(absence: Absence, *, agent) -> None:
    """The agent withdraws a request, or an approved absence that has not begun."""
    absence = Absence.objects.select_for_update().get(pk=absence.pk, agent=agent)
    if absence.state == Absence.State.APPROVED and absence.starts_at <= timezone.now():
        raise ValidationError(_("An absence that has begun can only be changed by a supervisor."))
    absence.delete()


# --- customers on the portal --------------------------------------------------------------

SIGN_IN_LINK_LIFETIME = timedelta(minutes=20)
SIGN_IN_LINKS_PER_HOUR = 5


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_customer_account(contact: Contact, *, username: str = "", password: str | None = None):
    """Give a contact a portal login (no agent profile, no staff flag); returns the user.

    Without a password the account can only sign in by emailed link. Safe to re-run: an
    existing login is returned unchanged.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.user_id:
        return contact.user
    username = username or contact.primary_email or f"contact-{contact.pk}"
    user = get_user_model().objects.create_user(
        username=username[:150], password=password, email=contact.primary_email
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    contact.user = user
    contact.save(update_fields=["user"])
    return user


def create_sign_in_link(address: str, *, now=None) -> tuple[SignInLink, str] | None:
    """A fresh one-time link for the contact owning ``address``: (row, secret token).

    None for an unknown address or one over SIGN_IN_LINKS_PER_HOUR (the caller answers the
    same either way, so nobody learns which addresses we know). Agents get no link.
    """
    now = now or timezone.now()
    address = address.strip().lower()
    owner = ContactEmail.objects.select_related("contact__user").filter(address=address).first()
    if owner is None:
        return None
    user = owner.contact.user
    if user is not None and (not user.is_active or hasattr(user, "agent_profile")):
        return None
    recent = SignInLink.objects.filter(address=address, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= SIGN_IN_LINKS_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    link = SignInLink.objects.create(
        contact=owner.contact,
        address=address,
        token_hash=_hash_token(token),
        created_at=now,
        expires_at=now + SIGN_IN_LINK_LIFETIME,
    )
    return link, token


def peek_sign_in_link(token: str, *, now=None) -> SignInLink | None:
    """The unused, unexpired link for ``token`` (nothing is consumed)."""
    return SignInLink.objects.usable(now).filter(token_hash=_hash_token(token)).first()


@transaction.atomic
def use_sign_in_link(token: str, *, now=None):
    """Consume a link once and return the user to sign in (created on first use), or None.

    The conditional UPDATE is the single use: two clicks racing, one wins.
    """
    now = now or timezone.now()
    links = SignInLink.objects.usable(now).filter(token_hash=_hash_token(token))
    link = links.select_related("contact").first()
    if link is None or not links.filter(pk=link.pk).update(used_at=now):
        return None
    user = create_customer_account(link.contact)
    if not user.is_active or hasattr(user, "agent_profile"):
        return None
    return user


def contact_for(user) -> Contact | None:
    """The customer behind a portal login, with their organization; None for anyone else."""
    if not user.is_authenticated or not user.is_active:
        return None
    return Contact.objects.select_related("organization").filter(user=user).first()


def purge_sign_in_links(now=None) -> int:
    """Delete links used or expired more than a day ago (one DELETE); safe to run twice."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = SignInLink.objects.filter(expires_at__lt=cutoff).delete()
    return deleted


def remember_languages(found) -> None:
    """Store each detected language on a contact that has none yet; ``found``: (contact, code).

    A contact made from a mail gets its language as it is made; this is for one that
    existed without (made in admin or by phone, or its first mail was too short to tell).
    A language already stored (a mail's, or one set in admin) is never overwritten, also
    not by a concurrent writer: the UPDATE only touches rows still blank. One UPDATE per
    language, none when every contact has one.
    """
    by_language: dict[str, list] = {}
    for contact, language in found:
        if language and not contact.language:
            by_language.setdefault(language, []).append(contact)
    for language, contacts in by_language.items():
        Contact.objects.filter(pk__in=[c.pk for c in contacts], language="").update(
            language=language
        )
        for contact in contacts:
            contact.language = language


def find_or_create_contacts(
    senders: dict[str, str], *, languages: dict[str, str] | None = None
) -> dict[str, Contact]:
    """The contact owning each address of ``{address: name}``, created on first sight.

    A few queries in all, whatever the number; keyed by the lowercased address (a contact
    is found by any of its addresses). ``languages``: ``{address: language}`` of the first
    mails, stored on the contacts made here. Safe under concurrent calls: an address another
    transaction takes first (ON CONFLICT DO NOTHING waits for it) is read back, and the
    contact made for it here is removed again.
    """
    wanted = {address.strip().lower(): name for address, name in senders.items()}
    spoken = {address.strip().lower(): code for address, code in (languages or {}).items()}
    found = {
        row.address: row.contact
        for row in ContactEmail.objects.select_related("contact").filter(address__in=wanted)
    }
    missing = sorted(address for address in wanted if address not in found)
    if not missing:
        return found
    with transaction.atomic(savepoint=False):
        # Sorted, so two callers wait for each other's addresses in one order (no deadlock).
        made = Contact.objects.bulk_create(
            [
                Contact(
                    name=wanted[address] or address.split("@")[0],
                    language=spoken.get(address, ""),
                )
                for address in missing
            ]
        )
        ContactEmail.objects.bulk_create(
            [
                ContactEmail(contact=contact, address=address, is_primary=True)
                for address, contact in zip(missing, made, strict=True)
            ],
            ignore_conflicts=True,
        )
        owners = {
            row.address: row.contact
            for row in ContactEmail.objects.select_related("contact").filter(address__in=missing)
        }
        lost = [c.pk for a, c in zip(missing, made, strict=True) if owners[a].pk != c.pk]
        if lost:
            Contact.objects.filter(pk__in=lost).delete()
    found.update(owners)
    return found


# --- contacts made by agents ---------------------------------------------------------------


@dataclass
class ContactDetails:
    """A customer an agent adds while opening a ticket (a phone call, a visit)."""

    name: str
    email: str = ""
    phone: str = ""
    language: str = ""
    organization: Organization | None = None


def phone_digits(number: str) -> str:
    """A number as its digits only: how callers are found ("+55 (11) 9..." is "55119...")."""
    return "".join(ch for ch in number if ch.isdigit())


@transaction.atomic
def create_contacts(details: Sequence[ContactDetails]) -> list[Contact]:
    """Make the contacts, each with its address and number; a few queries for the list.

    Refuses (ValidationError, nothing made) a contact without a name, or with an address
    another contact already has: the agent should pick that contact instead.
    """
    addresses = [item.email.strip().lower() for item in details if item.email.strip()]
    for item in details:
        if not item.name.strip():
            raise ValidationError(_("The new contact needs a name."))
    if len(set(addresses)) != len(addresses):
        raise ValidationError(_("Two new contacts have the same email address."))
    taken = ContactEmail.objects.filter(address__in=addresses).select_related("contact").first()
    if taken is not None:
        raise ValidationError(
            _("%(address)s already belongs to %(name)s: choose that contact.")
            % {"address": taken.address, "name": taken.contact.name}
        )
    contacts = Contact.objects.bulk_create(
        Contact(
            name=item.name.strip()[:200],
            language=item.language,
            organization=item.organization,
        )
        for item in details
    )
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=contact, address=item.email.strip().lower(), is_primary=True)
        for item, contact in zip(details, contacts, strict=True)
        if item.email.strip()
    )
    phones = [
        ContactPhone(contact=contact, number=item.phone.strip()[:40])
        for item, contact in zip(details, contacts, strict=True)
        if phone_digits(item.phone)
    ]
    for phone in phones:
        phone.fill_numbers()  # bulk_create skips save(): the digits and the E.164 form
    ContactPhone.objects.bulk_create(phones)
    return contacts


def find_contacts(query: str):
    """Contacts whose name, email address or phone number matches ``query``, by name.

    Digits match anywhere in a stored number (any formatting), words in the name, text in
    an address. An empty query finds nothing.
    """
    query = " ".join(query.split())[:100]
    if len(query) < 2:
        return Contact.objects.none()
    # One id list per table, each read on its own: OR-ing across the joined tables would
    # multiply every contact by its addresses and numbers before filtering.
    match = Q(name__icontains=query) | Q(
        pk__in=ContactEmail.objects.filter(address__icontains=query.lower()).values("contact_id")
    )
    digits = phone_digits(query)
    if len(digits) >= 3 and len(digits) >= len(query.replace(" ", "")) // 2:
        match |= Q(pk__in=ContactPhone.objects.filter(digits__contains=digits).values("contact_id"))
    return (
        Contact.objects.filter(match, merged_into__isnull=True)
        .select_related("organization")
        .prefetch_related("emails", "phones")
        .order_by("name", "pk")
    )


@transaction.atomic
def save_contact(
    contact: Contact | None,
    *,
    fields: dict,
    emails: list[str] | None = None,
    phones: list[dict] | None = None,
) -> Contact:
    """Create (``contact`` None) or change a contact: its plain ``fields`` (name,
    organization, language, notes) and, when given, exactly these addresses (the first is
    the primary) and phone numbers. An address of another contact is refused."""
    contact = contact or Contact()
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.save()
    if emails is not None:
        wanted = list(dict.fromkeys(address.strip().lower() for address in emails if address))
        taken = list(
            ContactEmail.objects.filter(address__in=wanted)
            .exclude(contact=contact)
            .values_list("address", flat=True)
        )
        if taken:
            raise _address_taken(taken)
        contact.emails.exclude(address__in=wanted).delete()
        existing = set(contact.emails.values_list("address", flat=True))
        for position, address in enumerate(wanted):
            if address in existing:
                contact.emails.filter(address=address).update(is_primary=position == 0)
                continue
            try:
                # A concurrent writer may take the address after the check above.
                with transaction.atomic():
                    ContactEmail(contact=contact, address=address, is_primary=position == 0).save()
            except IntegrityError:
                raise _address_taken([address]) from None
    if phones is not None:
        contact.phones.all().delete()
        for phone in phones:
            ContactPhone(contact=contact, number=phone["number"], kind=phone["kind"]).save()
    return contact


def _address_taken(addresses) -> ValidationError:
    return ValidationError(
        {
            "emails": _("Already the address of another contact: %(addresses)s.")
            % {"addresses": ", ".join(sorted(addresses))}
        }
    )


def contacts_by_address(*, email: str = "", phone: str = ""):
    """Contacts by one of their addresses (exact, any case) or numbers (by digits only)."""
    contacts = Contact.objects.all()
    if email:
        contacts = contacts.filter(emails__address=email.strip().lower())
    if phone:
        digits = "".join(ch for ch in phone if ch.isdigit())
        contacts = contacts.filter(phones__digits=digits) if digits else contacts.none()
    return contacts.distinct() if email or phone else contacts
