"""Mailbox passwords and other credentials: encrypted at rest, never an admin oracle."""

import secrets

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core import checks
from django.core.exceptions import FieldError
from django.db import connection
from django.urls import reverse

from helpdesk.admin import SecretLookupGuard, reaches_secret
from helpdesk.crypto import decrypt, is_secret_field
from mailboxes.models import Mailbox

PASSWORD = "imap-Secret-42"


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Support",
        pool=pool,
        kind=Mailbox.Kind.IMAP,
        host="imap.example.test",
        username="support",
        password=PASSWORD,
        from_address="support@example.test",
    )


@pytest.fixture
def mailbox_viewer(client, db):
    """Staff who may view mailboxes, nothing more: the user the oracle used to serve."""
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_mailbox"))
    client.force_login(user)
    return client


def _stored_password(mailbox):
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM mailboxes_mailbox WHERE id = %s", [mailbox.pk])
        return cursor.fetchone()[0]


def test_mailbox_password_is_stored_encrypted_and_read_back_plain(mailbox):
    stored = _stored_password(mailbox)
    assert PASSWORD not in stored
    assert decrypt(stored) == PASSWORD
    assert Mailbox.objects.get(pk=mailbox.pk).password == PASSWORD


def test_encrypting_the_same_password_twice_gives_different_ciphertexts(mailbox, pool):
    twin = Mailbox.objects.create(
        name="Twin", pool=pool, password=PASSWORD, from_address="twin@example.test"
    )
    assert _stored_password(twin) != _stored_password(mailbox)


def test_an_empty_password_stays_empty(pool):
    mailbox = Mailbox.objects.create(name="Local", pool=pool, from_address="l@example.test")
    assert _stored_password(mailbox) == ""
    assert Mailbox.objects.get(pk=mailbox.pk).password == ""


def test_password_lookups_fail_closed_in_queries(mailbox):
    for lookup in ("password", "password__startswith", "password__regex", "password__gt"):
        with pytest.raises(FieldError):
            Mailbox.objects.filter(**{lookup: "i"}).exists()
    assert Mailbox.objects.filter(password__isnull=False).count() == 1


def test_admin_mailbox_list_refuses_password_lookups_whatever_the_guess(mailbox_viewer, mailbox):
    url = reverse("admin:mailboxes_mailbox_changelist")
    assert mailbox_viewer.get(url).status_code == 200
    for query in (
        {"password__startswith": "i"},  # the right first character
        {"password__startswith": "z"},  # a wrong one: the same answer
        {"password": PASSWORD},
        {"password__regex": "^imap"},
        {"pool__mailboxes__password__startswith": "i"},
    ):
        response = mailbox_viewer.get(url, query)
        assert response.status_code == 400, query


def test_no_admin_list_answers_a_lookup_that_reaches_a_secret(admin_client):
    """Every registered admin, every path (up to two relations) to a password or credential."""
    tried = 0
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for path in _paths_to_secrets(model):
            response = admin_client.get(url, {f"{path}__startswith": "p"})
            assert response.status_code == 400, (model_admin, path)
            tried += 1
    # Users' hashes, contacts' and agents' users, mailboxes and their pools at least.
    assert tried >= 5


def _paths_to_secrets(model, prefix="", depth=0):
    for field in model._meta.get_fields():
        if is_secret_field(field):
            yield prefix + field.name
        elif field.is_relation and field.related_model and depth < 2 and field.concrete:
            yield from _paths_to_secrets(field.related_model, f"{prefix}{field.name}__", depth + 1)


def test_every_admin_is_guarded_and_none_searches_filters_or_sorts_a_secret(db):
    for model_admin in admin.site._registry.values():
        assert isinstance(model_admin, SecretLookupGuard), model_admin
    errors = checks.run_checks(tags=[checks.Tags.admin])
    assert errors == []


def test_an_admin_searching_a_secret_fails_the_system_checks():
    class Careless(admin.ModelAdmin):
        search_fields = ["name", "=pool__mailboxes__password"]
        list_filter = ["pool__mailboxes__password"]

    site = admin.AdminSite(name="careless")
    site.register(Mailbox, type("Guarded", (SecretLookupGuard, Careless), {}))
    errors = [e for e in site._registry[Mailbox].check() if e.id == "helpdesk.E001"]
    assert len(errors) == 2


def test_secret_paths_are_recognised_through_relations():
    assert reaches_secret(Mailbox, "password__startswith")
    assert reaches_secret(Mailbox, "pool__mailboxes__password")
    assert reaches_secret(User, "password")
    assert not reaches_secret(Mailbox, "name__startswith")
    assert not reaches_secret(Mailbox, "pool__name")


def test_mailbox_admin_never_shows_the_password_back(admin_client, mailbox):
    url = reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert PASSWORD not in response.text
    assert _stored_password(mailbox) not in response.text


def test_saving_the_mailbox_with_an_empty_password_keeps_the_old_one(admin_client, mailbox):
    url = reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields
    }
    data.update(password="", pool=mailbox.pool_id, fetch_interval="00:01:00")
    data["next_fetch_at_0"], data["next_fetch_at_1"] = "2026-01-01", "00:00:00"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Mailbox.objects.get(pk=mailbox.pk).password == PASSWORD


@pytest.mark.django_db(transaction=True)
def test_migrating_encrypts_the_passwords_stored_in_plain_text(pool):
    from django.db.migrations.executor import MigrationExecutor

    before = [("mailboxes", "0003_notification_rules")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old_mailbox = executor.loader.project_state(before).apps.get_model("mailboxes", "Mailbox")
    old_mailbox.objects.create(
        name="Legacy", pool_id=pool.pk, password=PASSWORD, from_address="l@example.test"
    )
    (legacy,) = Mailbox.objects.raw("SELECT id FROM mailboxes_mailbox")
    assert _stored_password(legacy) == PASSWORD

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert PASSWORD not in _stored_password(legacy)
    assert Mailbox.objects.get(name="Legacy").password == PASSWORD


def test_a_new_key_reads_old_secrets_once_they_are_re_encrypted(mailbox, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    mailbox.save()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # rotation: new first, old still read
    assert Mailbox.objects.get(pk=mailbox.pk).password == PASSWORD
    call_command("reencrypt_secrets", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Mailbox.objects.get(pk=mailbox.pk).password == PASSWORD


def test_a_secret_read_with_the_wrong_key_fails_loudly(mailbox, settings):
    from cryptography.fernet import Fernet
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FALLBACKS"):
        Mailbox.objects.get(pk=mailbox.pk)


def test_secrets_survive_a_new_secret_key_with_the_old_one_as_fallback(mailbox, settings):
    old = settings.SECRET_KEY
    settings.SECRET_KEY = secrets.token_urlsafe(64)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert Mailbox.objects.get(pk=mailbox.pk).password == PASSWORD
