from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from mailboxes.forms import NotificationPreferenceForm
from mailboxes.models import NotificationPreference, PendingNotification
from mailboxes.preferences import absences_of, save_preferences
from people.roles import is_agent


@login_required
def preferences(request):
    """The agent's own choice of which events mail them, at once or in a digest."""
    if not is_agent(request.user):
        raise Http404
    current = NotificationPreference.objects.filter(user=request.user).first()
    form = NotificationPreferenceForm(
        request.POST or None, instance=current or NotificationPreference(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        choices = {name: form.cleaned_data[name] for name in NotificationPreference.Topic.values}
        save_preferences(request.user, choices, digest_period=form.cleaned_data["digest_period"])
        messages.success(request, _("Your notification choices were saved."))
        return redirect("notification_preferences:edit")
    context = {
        "form": form,
        "waiting": PendingNotification.objects.unsent().filter(user=request.user).count(),
        "absence": absences_of([request.user.pk], timezone.now()).get(request.user.pk),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "mailboxes/notificationpreference_form.html", context, status=status)
