"""Tokens and service accounts: made, scoped and revoked here, nowhere else."""

import functools
import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from api.models import ApiToken, ServiceAccount
from helpdesk.tokens import new_token, token_digest
from people.models import AgentProfile, Role
from people.roles import is_agent, role_of
from tickets.models import Pool

TOKEN_PREFIX = "hd"  # noqa: S105 (names the kind of token, not a secret)
HINT_LENGTH = 8
# A token's last use is written at most this often: a busy bot must not turn every read
# into a write of its token row.
LAST_USE_RESOLUTION = timedelta(minutes=1)
# What a bot may do: see every pool (its tokens narrow that down), read and edit contacts.
SERVICE_ACCOUNT_PERMISSIONS = [
    ("people", "see_all_pools"),
    ("people", "view_contact"),
    ("people", "change_contact"),
]


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def may_manage_tokens_of(actor, owner) -> bool:
    """Admins manage every token; an agent only their own."""
    if not is_agent(actor):
        return False
    return is_admin(actor) or actor.pk == owner.pk


def token_owners_for(actor):
    """The users ``actor`` may make tokens for: themselves, or (admins) any active agent."""
    users = get_user_model().objects.filter(is_active=True, agent_profile__isnull=False)
    if is_admin(actor):
        return users.order_by("first_name", "username")
    return users.filter(pk=actor.pk)


@transaction.atomic
def create_service_account(*, name: str, description: str = "", actor) -> ServiceAccount:
    """A bot user named ``name`` that cannot sign in (no usable password) and sees every
    pool (its tokens choose which). Only admins make them."""
    if not is_admin(actor):
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the service account a name."))
    base = "bot-" + (slugify(name) or "account")
    username, number = base[:140], 1
    users = get_user_model().objects
    while users.filter(username=username).exists():
        number += 1
        username = f"{base[:136]}-{number}"
    user = users.create_user(username=username, password=None, first_name=name[:150])
    AgentProfile.objects.create(user=user)
    for app_label, codename in SERVICE_ACCOUNT_PERMISSIONS:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return ServiceAccount.objects.create(user=user, description=description, created_by=actor)


def _allowed_pools(owner, pools) -> list[Pool]:
    pools = list(pools or ())
    usable = set(
        Pool.objects.usable_by(owner)
        .filter(pk__in=[p.pk for p in pools])
        .values_list("pk", flat=True)
    )
    refused = [pool for pool in pools if pool.pk not in usable]
    if refused:
        raise ValidationError(
            _("%(owner)s does not work in: %(pools)s.")
            % {
                "owner": owner.get_full_name() or owner.get_username(),
                "pools": ", ".join(str(pool) for pool in refused),
            }
        )
    return pools


@transaction.atomic
def create_token(
    *, owner, name: str, scope: str, pools=(), expires_at=None, actor
) -> tuple[ApiToken, str]:
    """A new token for ``owner``: (row, secret). The secret is returned once and only its
    digest is stored. Its pools may never be wider than the owner's own."""
    if not may_manage_tokens_of(actor, owner) or not is_agent(owner):
        raise PermissionDenied
    if scope not in ApiToken.Scope.values:
        raise ValidationError(_("Choose read or read and write."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("The expiry must be in the future."))
    pools = _allowed_pools(owner, pools)
    secret = new_token(TOKEN_PREFIX)
    token = ApiToken.objects.create(
        owner=owner,
        name=name.strip()[:100] or _("API token"),
        scope=scope,
        digest=token_digest(secret),
        hint=secret[:HINT_LENGTH],
        expires_at=expires_at,
        created_by=actor,
    )
    token.pools.set(pools)
    return token, secret


def revoke_token(token: ApiToken, *, actor) -> ApiToken:
    """Revoke at once (the next request with it is refused); safe to run twice."""
    if not may_manage_tokens_of(actor, token.owner):
        raise PermissionDenied
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


_SECRET = re.compile(r"^[A-Za-z0-9_\-]{10,100}$")


@functools.cache
def _tokens_with_owners():
    """Tokens with their owner and agent profile joined, resolved once per process (each
    request adds the secret's digest and the time to a copy).

    On PostgreSQL the same row brings the token's pools and its owner's permissions (own
    and groups', as "app_label.codename"), two arrays: each round trip waits for a core on
    a busy machine, and one query with two small subqueries costs less CPU than three.
    Elsewhere (SQLite, in the process) those are read apart, by ``token_pool_ids`` and
    ``load_permissions``."""
    tokens = ApiToken.objects.select_related("owner", "owner__agent_profile").order_by()
    if connection.vendor != "postgresql":
        return tokens
    from django.contrib.postgres.expressions import ArraySubquery

    pools = ApiToken.pools.through.objects.filter(apitoken_id=OuterRef("pk"))
    owner = OuterRef("owner_id")
    permissions = Permission.objects.filter(Q(user=owner) | Q(group__user=owner)).order_by()
    return tokens.annotate(
        token_pool_ids=ArraySubquery(pools.order_by().values("pool_id")),
        owner_permissions=ArraySubquery(
            permissions.values(dotted=Concat("content_type__app_label", Value("."), "codename"))
        ),
    )


def authenticate_token(secret: str, *, address: str, now=None) -> ApiToken | None:
    """The usable token for ``secret``, its last use recorded; None when unknown, expired,
    revoked or its owner is disabled (one answer for all: nobody learns which)."""
    if not _SECRET.match(secret):
        return None
    now = now or timezone.now()
    found = list(_tokens_with_owners().usable(now).filter(digest=token_digest(secret))[:1])
    if not found:
        return None
    token = found[0]
    if hasattr(token, "token_pool_ids"):
        setattr(token, "_pool_ids", token.token_pool_ids)  # noqa: B010 (see token_pool_ids)
    load_permissions(token.owner, getattr(token, "owner_permissions", None))
    record_use(token, address=address, now=now)
    return token


def load_permissions(owner, names=None) -> None:
    """The owner's permissions, their own and their groups', in one query where Django's
    ModelBackend reads them in two on the first ``has_perm()`` (or ``names``, read with
    the token); kept where it looks first, on this request's user object only (read again
    on every request: a withdrawn permission counts at once)."""
    if owner.is_superuser:
        return  # every permission: ModelBackend knows that without reading them
    if names is None:
        permissions = Permission.objects.filter(Q(user=owner) | Q(group__user=owner)).order_by()
        rows = permissions.values_list("content_type__app_label", "codename").distinct()
        names = [f"{app_label}.{codename}" for app_label, codename in rows]
    owner._perm_cache = set(names)


def record_use(token: ApiToken, *, address: str, now) -> None:
    """Remember when and from where; written at most once a minute per token and address."""
    where = address or None
    if (
        token.last_used_at is not None
        and token.last_used_at > now - LAST_USE_RESOLUTION
        and token.last_used_address == where
    ):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_address=where)
    token.last_used_at, token.last_used_address = now, where


def token_pool_ids(token: ApiToken) -> list[int]:
    """The pools a token is limited to (empty: the owner's own, whatever they are now).
    Loaded once per request."""
    cached = getattr(token, "_pool_ids", None)
    if cached is None:
        # The through table alone: no join to the pools.
        through = ApiToken.pools.through.objects.filter(apitoken_id=token.pk).order_by()
        cached = list(through.values_list("pool_id", flat=True))
        setattr(token, "_pool_ids", cached)  # noqa: B010 (a cache on this instance only)
    return cached
