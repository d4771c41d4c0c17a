"""The tokens page: an agent's own tokens (from their profile), every token for admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api import services
from api.forms import ServiceAccountForm, TokenForm
from api.models import ApiToken, ServiceAccount
from people.decorators import agent_required
from people.features import Feature
from people.profiles import feature_required


def _tokens_for(user):
    tokens = ApiToken.objects.select_related("owner", "owner__service_account").prefetch_related(
        "pools"
    )
    return tokens if services.is_admin(user) else tokens.filter(owner=user)


def _page(request, *, form=None, account_form=None, secret="", created=None, status=200):
    admin = services.is_admin(request.user)
    context = {
        "tokens": _tokens_for(request.user)[:200],
        "form": form or TokenForm(actor=request.user),
        "account_form": account_form or (ServiceAccountForm() if admin else None),
        "service_accounts": ServiceAccount.objects.select_related("user") if admin else (),
        "is_admin": admin,
        "secret": secret,
        "created": created,
    }
    response = render(request, "api/apitoken_list.html", context, status=status)
    if secret:
        # The only time the secret is shown: never kept by a browser or proxy cache.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@agent_required
@feature_required(Feature.API_TOKENS)
def token_list(request):
    """List the tokens and make a new one; the new secret is shown on this answer only."""
    if request.method != "POST":
        return _page(request)
    form = TokenForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            token, secret = services.create_token(
                owner=form.cleaned_data["owner"],
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                pools=form.cleaned_data["pools"],
                expires_at=form.expires_at(),
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            return _page(request, secret=secret, created=token, status=201)
    return _page(request, form=form, status=400)


@require_POST
@login_required
@agent_required
@feature_required(Feature.API_TOKENS)
def token_revoke(request, token_id):
    token = get_object_or_404(_tokens_for(request.user), pk=token_id)
    services.revoke_token(token, actor=request.user)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("api_tokens:list")


@require_POST
@login_required
@agent_required
@feature_required(Feature.API_TOKENS)
def service_account_create(request):
    """Admins: a named bot to own tokens."""
    if not services.is_admin(request.user):
        raise Http404
    form = ServiceAccountForm(request.POST)
    if form.is_valid():
        try:
            account = services.create_service_account(
                name=form.cleaned_data["account_name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Service account “%(name)s” created: choose it under “Acts as”.")
                % {"name": account},
            )
            return redirect("api_tokens:list")
    return _page(request, account_form=form, status=400)
