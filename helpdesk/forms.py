"""One way to handle a posted form, for every app's pages (services refuse, the form shows why)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_noop

# Django 6.1's label of an optional select's empty choice (``BLANK_CHOICE_LABEL``) is not in
# its pt_BR and pl catalogs yet, so every optional select said it in English on a Portuguese
# or Polish page. Named here, makemessages puts it in our catalogs, which win over Django's.
gettext_noop("- Select an option -")


def handle_form(request, form, run, *, success, failure, done=""):
    """Validate ``form``, ``run(cleaned_data)`` and redirect to ``success(result)``.

    A ValidationError from the service shows on the form and ``failure(form)`` renders the
    page again (with status 400); PermissionDenied is a 404: nobody learns what exists.
    ``done`` is the success message, if any.
    """
    if form.is_valid():
        try:
            result = run(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied:
            raise Http404 from None
        else:
            if done:
                messages.success(request, done)
            return redirect(success(result))
    return failure(form)
