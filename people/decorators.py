"""Who may open a view: one decorator per kind of user; anyone else gets a 404."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse

from people.models import Role
from people.roles import is_agent, role_of
from people.services import contact_for


def agent_required(view):
    """Only agents (and supervisors, admins) reach the workspace; others get a 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_agent(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def customer_required(view):
    """Customers only: anonymous visitors go to the portal sign-in, anyone else gets a 404.

    Sets ``request.contact``, the customer every portal lookup is scoped to.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        request.contact = contact_for(request.user)
        if request.contact is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Administrators only (superusers, the Administrators group); anyone else gets a 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and role_of(request.user) == Role.ADMIN):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
