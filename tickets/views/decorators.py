from functools import wraps

from django.http import Http404

from people.roles import is_agent


def agent_required(view):
    """Only agents (and supervisors, admins) reach the workspace; others get a 404."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_agent(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
