"""The customer portal: sign in, list, open, follow, reply, cancel, approve or reject.

Every ticket and file lookup is scoped to the signed-in customer (tickets.services.portal);
another customer's ticket is a 404, exactly like one that does not exist.
"""

from urllib.parse import urljoin

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from people.decorators import customer_required
from people.services import contact_for, peek_sign_in_link, use_sign_in_link
from people.views import LoginView
from portal.forms import (
    CancelForm,
    ConfirmForm,
    CustomerAuthenticationForm,
    PortalReplyForm,
    PortalTicketForm,
    RejectForm,
    SignInLinkForm,
)
from portal.services import request_sign_in_link
from tickets.downloads import download_response
from tickets.models import Attachment, Ticket
from tickets.panels import CUSTOMER, panels_for
from tickets.services import portal as services
from tickets.states import CLOSED_STATUSES, OPEN_STATUSES, Status
from tickets.views.forms import handle_form
from tickets.views.paging import page_of

PAGE_SIZE = 20
TABS = {
    "open": gettext_lazy("Open"),
    "closed": gettext_lazy("Finished"),
    "all": gettext_lazy("All"),
}


def _with_language(response, contact):
    """Speak the customer's language from now on, when we know it."""
    if contact is not None and contact.language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, contact.language, samesite="Lax")
    return response


class PortalLoginView(LoginView):
    form_class = CustomerAuthenticationForm
    template_name = "portal/login.html"
    next_page = "portal:home"

    def get_default_redirect_url(self):
        return reverse("portal:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        return _with_language(response, contact_for(form.get_user()))


LINK_REQUESTS_PER_ADDRESS = 20  # per hour and client address, on top of the per-mail limit


def _too_many_link_requests(request) -> bool:
    """Count this client's link requests in the cache: one address cannot mail-bomb many."""
    key = f"portal-link-requests:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > LINK_REQUESTS_PER_ADDRESS
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return False


def request_link(request):
    """Ask for a one-time sign-in link; the answer is the same for known and unknown addresses."""
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _too_many_link_requests(request):
            form.add_error(None, _("Too many requests. Wait a few minutes and try again."))
            return render(request, "portal/link_request.html", {"form": form}, status=429)
        request_sign_in_link(
            form.cleaned_data["email"],
            # From the configured base URL, never the request's Host header (link poisoning).
            url_for=lambda token: urljoin(
                settings.SITE_URL, reverse("portal:link_sign_in", args=[token])
            ),
        )
        messages.info(
            request, _("If we know this address, a sign-in link is on its way. It works once.")
        )
        return redirect("portal:login")
    return render(request, "portal/link_request.html", {"form": form})


def link_sign_in(request, token):
    """GET shows a button, POST signs in: mail scanners that open links do not use them up."""
    if request.method == "POST":
        user = use_sign_in_link(token)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return _with_language(redirect("portal:home"), contact_for(user))
    elif peek_sign_in_link(token) is not None:
        return render(request, "portal/link_confirm.html")
    messages.error(request, _("This sign-in link was already used or has expired."))
    return redirect("portal:request_link")


@customer_required
def password(request):
    """Set a password (accounts made by a sign-in link have none) or change it."""
    user = request.user
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    form = form_class(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was saved."))
        return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form})


@customer_required
def home(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "open"
    tickets = services.customer_tickets(request.contact)
    if tab == "open":
        tickets = tickets.filter(status__in=[*OPEN_STATUSES, Status.RESOLVED])
    elif tab == "closed":
        tickets = tickets.filter(status__in=[Status.CLOSED, Status.CANCELLED])
    rows = tickets.select_related("pool", "topic", "product", "requester")
    paged = page_of(request, rows.order_by("-created_at", "-pk"), PAGE_SIZE)
    context = {**paged, "tab": tab, "tabs": TABS.items(), "tickets": paged["rows"]}
    return render(request, "portal/ticket_list.html", context)


@customer_required
def new_ticket(request):
    form = PortalTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.open_ticket_from_portal(
                contact=request.contact,
                actor=request.user,
                files=form.cleaned_data.pop("attachments"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Ticket %(number)s is open. We will answer soon.") % {"number": ticket.number},
            )
            return redirect("portal:detail", ticket.number)
    return render(request, "portal/ticket_form.html", {"form": form})


def _detail_queryset():
    thread = (
        services.customer_messages_queryset()
        .select_related("author_user", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
    )
    return Ticket.objects.select_related("pool", "topic", "product", "requester").prefetch_related(
        Prefetch("messages", queryset=thread, to_attr="customer_thread")
    )


def _render_detail(request, number, status=200, **forms):
    ticket = services.get_ticket_for_customer(request.contact, number, queryset=_detail_queryset())
    context = {
        "ticket": ticket,
        # Prefetched with to_attr: only what the customer may read.
        "thread": ticket.customer_thread,  # type: ignore[attr-defined]
        "panels": panels_for(ticket, user=request.user, audience=CUSTOMER),
        "reply_form": PortalReplyForm(),
        "cancel_form": CancelForm(),
        "reject_form": RejectForm(),
        "can_cancel": ticket.status in OPEN_STATUSES,
        "can_reply": ticket.status != Status.CANCELLED,
        "awaits_approval": ticket.status == Status.RESOLVED,
        "is_finished": ticket.status in CLOSED_STATUSES,
        # Shown at the top: the form that failed may not be on the page any more.
        "action_errors": [error for form in forms.values() for error in form.non_field_errors()],
        **forms,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@require_GET
@customer_required
def detail(request, number):
    return _render_detail(request, number)


def _action_view(form_class, form_name, action, done):
    """A POST-only view: validate, run ``action(request, ticket, data)``, back to the ticket
    with ``done``; errors re-render the ticket (400) with the failed form."""

    @require_POST
    @customer_required
    def view(request, number):
        ticket = services.get_ticket_for_customer(request.contact, number)
        return handle_form(
            request,
            form_class(request.POST, request.FILES),
            lambda data: action(request, ticket, data),
            success=lambda result: reverse("portal:detail", args=[ticket.number]),
            failure=lambda form: _render_detail(request, number, status=400, **{form_name: form}),
            done=done,
        )

    return view


reply = _action_view(
    PortalReplyForm,
    "reply_form",
    lambda request, ticket, data: services.reply_from_portal(
        ticket, contact=request.contact, body=data["body"], files=data["attachments"]
    ),
    gettext_lazy("Your message was added."),
)
cancel = _action_view(
    CancelForm,
    "cancel_form",
    lambda request, ticket, data: services.cancel_ticket(
        ticket, actor=request.user, reason=data["reason"]
    ),
    gettext_lazy("The ticket was cancelled."),
)
approve = _action_view(
    ConfirmForm,
    "approve_form",
    lambda request, ticket, data: services.approve_resolution(ticket, actor=request.user),
    gettext_lazy("Thank you! The ticket is closed."),
)
reject = _action_view(
    RejectForm,
    "reject_form",
    lambda request, ticket, data: services.reject_resolution(
        ticket, actor=request.user, reason=data["reason"]
    ),
    gettext_lazy("The ticket was reopened; we will get back to you."),
)


@require_GET
@customer_required
def attachment(request, number, attachment_id):
    """A file of a message the customer can read: always a download, never rendered."""
    item = services.get_attachment_for_customer(request.contact, number, attachment_id)
    return download_response(item.file, filename=item.filename)
