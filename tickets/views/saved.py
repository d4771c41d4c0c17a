"""Saved views: named queue filters shown as tabs, with counts read in one query."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.roles import sees_all_pools
from tickets.models import SavedView

# Tabs shown above the queue; their counts cost one query whatever their number.
MAX_TABS = 12
# What a saved view keeps of the queue's address: its filters, tab and sort, not its page,
# which saved view was open, or the search focus the "/" shortcut asks for.
NOT_KEPT = ("page", "view", "focus")


def view_query(params) -> str:
    """The part of a queue query string a saved view keeps, normalised."""
    query = params.copy()
    for key in NOT_KEPT:
        query.pop(key, None)
    pairs = [(key, value) for key, values in sorted(query.lists()) for value in values if value]
    return urlencode(pairs)


def bounded_counts(querysets, limit: int) -> list[int]:
    """Count each queryset up to ``limit`` rows, all in one SELECT of scalar subqueries.

    Each count stops at the limit (the queue shows "999+" too) and runs where the queue's
    own query would: the same filters, over the same access-scoped rows.
    """
    if not querysets:
        return []
    parts, params = [], []
    for index, queryset in enumerate(querysets):
        sql, part_params = queryset.order_by().values("pk")[:limit].query.sql_with_params()
        # Django's own compiled query; every value stays a parameter.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS view_{index})")  # noqa: S608
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


def saved_view_tabs(user, filtered, limit: int) -> list[dict]:
    """The user's saved views as tabs: view, address and count (``filtered(params)`` gives
    the queue's queryset for a query string, so a count is what the tab's page lists)."""
    views = list(SavedView.objects.usable_by(user)[:MAX_TABS])
    counts = bounded_counts([filtered(QueryDict(view.query)) for view in views], limit)
    base = reverse("tickets:queue")
    return [
        {
            "view": view,
            "url": f"{base}?{view.query}{'&' if view.query else ''}view={view.pk}",
            "count": f"{limit - 1}+" if count >= limit else str(count),
            "editable": view.owner_id == user.pk,
        }
        for view, count in zip(views, counts, strict=True)
    ]


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "shared", "query"]
        widgets = {"query": forms.HiddenInput}
        labels = {"name": gettext_lazy("Name of the view")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["query"].required = False
        if not sees_all_pools(user):
            # Only supervisors share views with every agent.
            del self.fields["shared"]

    def clean_query(self):
        return view_query(QueryDict(self.cleaned_data.get("query", "")))


def _back(view: SavedView | None):
    if view is None:
        return redirect("tickets:queue")
    separator = "&" if view.query else ""
    return redirect(f"{reverse('tickets:queue')}?{view.query}{separator}view={view.pk}")


@require_POST
@login_required
@agent_required
def save_view(request):
    """Save the queue's current filters as a new view (at the end of the tabs)."""
    form = SavedViewForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Give the view a name (at most 60 characters)."))
        query = view_query(QueryDict(request.POST.get("query", "")))
        return redirect(f"{reverse('tickets:queue')}?{query}")
    view = form.save(commit=False)
    view.owner = request.user
    view.position = SavedView.objects.filter(owner=request.user).count()
    view.save()
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return _back(view)


def _own_view(request, view_id) -> SavedView:
    # Only the owner changes a view; another agent's (or a shared one) is "not found".
    return get_object_or_404(SavedView, pk=view_id, owner=request.user)


@require_POST
@login_required
@agent_required
def update_view(request, view_id):
    """Rename a view, share or unshare it (supervisors), or give it the current filters."""
    view = _own_view(request, view_id)
    data = request.POST.copy()
    if "query" not in data:
        data["query"] = view.query
    form = SavedViewForm(data, instance=view, user=request.user)
    if form.is_valid():
        form.save()
        messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    else:
        messages.error(request, _("Give the view a name (at most 60 characters)."))
    return _back(view)


@require_POST
@login_required
@agent_required
def delete_view(request, view_id):
    view = _own_view(request, view_id)
    view.delete()
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return _back(None)
