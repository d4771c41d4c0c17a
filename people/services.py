"""Workflows around people: role groups, agents, absences, customers' portal logins."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from people.models import (
    ROLE_GROUPS,
    Absence,
    AgentProfile,
    Contact,
    ContactEmail,
    Role,
    SignInLink,
)

# Permissions each role group carries; supervisors and admins inherit the agent's.
_AGENT_PERMS = ["people.view_contact", "people.change_contact"]
_SUPERVISOR_PERMS = [*_AGENT_PERMS, "people.see_all_pools", "people.approve_reply"]
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


def current_absences(now=None):
    """Absences in force now, with agent and substitute loaded."""
    return Absence.objects.current(now or timezone.now()).select_related("agent", "substitute")


def absent_user_ids(now=None) -> set[int]:
    return set(Absence.objects.current(now).values_list("agent_id", flat=True))


def substituted_user_ids(substitute, now=None) -> set[int]:
    """Agents who are away now and whose work ``substitute`` covers."""
    return set(
        Absence.objects.current(now)
        .filter(substitute=substitute)
        .values_list("agent_id", flat=True)
    )


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
