"""The portal moved into its own app: every link customers hold keeps working."""

import pytest
from django.urls import resolve, reverse

# The portal's URL names and paths as they were under tickets/ (mails and bookmarks hold them).
PORTAL_PATHS = {
    ("home", ()): "/portal/",
    ("login", ()): "/portal/login/",
    ("logout", ()): "/portal/logout/",
    ("request_link", ()): "/portal/login/link/",
    ("link_sign_in", ("tok3n",)): "/portal/login/link/tok3n/",
    ("password", ()): "/portal/password/",
    ("new", ()): "/portal/new/",
    ("detail", ("42",)): "/portal/tickets/42/",
    ("reply", ("42",)): "/portal/tickets/42/reply/",
    ("cancel", ("42",)): "/portal/tickets/42/cancel/",
    ("approve", ("42",)): "/portal/tickets/42/approve/",
    ("reject", ("42",)): "/portal/tickets/42/reject/",
    ("attachment", ("42", 7)): "/portal/tickets/42/files/7/",
}


@pytest.mark.parametrize(("name", "args"), list(PORTAL_PATHS))
def test_portal_url_names_resolve_to_the_same_paths(name, args):
    path = PORTAL_PATHS[(name, args)]
    assert reverse(f"portal:{name}", args=args) == path
    match = resolve(path)
    assert (match.namespace, match.url_name) == ("portal", name)
    assert match.func.__module__.startswith(("portal.", "django.contrib.auth"))


def test_the_help_articles_stay_under_the_portal():
    assert reverse("knowledge:search").startswith("/portal/help/")
