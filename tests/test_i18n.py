"""The UI ships in English, Brazilian Portuguese and Polish, in the user's time zone."""

import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.factories import TicketFactory

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.parametrize("language", ["pt_BR", "pl"])
def test_catalog_is_present_and_compiled(language):
    assert (LOCALE / language / "LC_MESSAGES" / "django.po").is_file()
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").is_file()


@pytest.mark.parametrize("language", ["pt-br", "pl"])
def test_workspace_strings_are_translated(language):
    with translation.override(language):
        for text in ("Next ticket", "Queue", "Internal note", "Send reply", "Sign in"):
            assert translation.gettext(text) != text, (language, text)


def test_language_switcher_changes_the_page_language(agent_client):
    response = agent_client.post(
        reverse("set_language"), {"language": "pl", "next": reverse("tickets:queue")}
    )
    assert response.status_code == 302
    page = agent_client.get(reverse("tickets:queue"))
    assert 'lang="pl"' in page.text
    with translation.override("pl"):
        assert translation.gettext("Next ticket") in page.text


def test_dates_are_shown_in_the_agents_time_zone(agent_client, agent, pool):
    agent.agent_profile.time_zone = "America/Sao_Paulo"
    agent.agent_profile.save()
    ticket = TicketFactory(pool=pool, created_at=datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number]))
    local = ticket.created_at.astimezone(zoneinfo.ZoneInfo("America/Sao_Paulo"))
    assert local.hour == 23
    assert "Feb. 28, 2026" in page.text or "02/28/2026" in page.text
    assert "11:30" in page.text or "23:30" in page.text


def test_browser_time_zone_cookie_is_used_without_a_profile_zone(agent_client, pool):
    ticket = TicketFactory(pool=pool, created_at=datetime(2026, 7, 1, 22, 15, tzinfo=UTC))
    agent_client.cookies["tz"] = "Europe/Warsaw"
    page = agent_client.get(reverse("tickets:detail", args=[ticket.number]))
    assert "July 2, 2026" in page.text or "07/02/2026" in page.text
    assert "00:15" in page.text or "12:15 a.m." in page.text


@pytest.mark.parametrize("language", ["pt_BR", "pl"])
def test_catalog_has_no_untranslated_or_fuzzy_entries(language):
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first block is the header
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""')]
    fuzzy = [e for e in entries if "#, fuzzy" in e]
    assert untranslated == []
    assert fuzzy == []


def test_admin_breadcrumb_home_is_not_the_phone_type(client, admin_user):
    from people.models import ContactPhone

    client.force_login(admin_user)
    for language, phone_home in (("pl", "Domowy"), ("pt-br", "Residencial")):
        with translation.override(language):
            assert str(ContactPhone.Kind.HOME.label) == phone_home
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            page = client.get(reverse("admin:people_contact_changelist"))
        assert page.status_code == 200
        breadcrumbs = page.text.split('class="breadcrumbs"', 1)[1].split("</div>", 1)[0]
        assert phone_home not in breadcrumbs


def test_activity_explanations_follow_the_readers_language(pool, agent):
    from mailboxes.processing import process_raw_messages
    from tests.mailboxes.test_processing import build_mail, make_mailbox, store_raw
    from tickets import services
    from tickets.models import ActivityLog
    from tickets.states import Status

    mailbox = make_mailbox(pool)
    first = store_raw(mailbox, build_mail())
    process_raw_messages([first.pk])
    first.refresh_from_db()
    ticket = first.ticket
    services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    services.change_status(ticket, to=Status.RESOLVED, actor=agent)
    reply = build_mail(
        subject=f"Re: [#{ticket.number}] Printer on fire",
        message_id="<second@example.test>",
        headers={"In-Reply-To": "<first@example.test>"},
    )
    with translation.override("pl"):  # the worker's language must not end up in the log
        process_raw_messages([store_raw(mailbox, reply).pk])
    reopened = ActivityLog.objects.get(ticket=ticket, action=ActivityLog.Action.REOPENED)
    assert reopened.detail == "The customer wrote again."
    with translation.override("pt-br"):
        assert reopened.detail_label == "O cliente escreveu novamente."


def test_report_help_texts_follow_the_readers_language():
    from reports.figures import figure
    from reports.measures import MEASURES, first_response_average

    # Written once: the function's docstring is the help text.
    assert first_response_average.__doc__ == MEASURES["first_response_average"].help
    with translation.override("pl"):
        shown = figure(None, {"now": {}, "before": {}}, None, "first_response_average").help
    assert shown.startswith("Od utworzenia zgłoszenia do pierwszej odpowiedzi")


def test_report_labels_with_a_target_follow_the_readers_language():
    from reports.measures import MEASURES, RATIOS

    with translation.override("pl"):
        assert str(MEASURES["sla_resolution_met"].label) == "Rozwiązanie: termin dotrzymany"
        assert str(RATIOS["sla_resolution_met_share"][2]).startswith("Rozwiązanie: termin")
    with translation.override("en"):
        assert str(MEASURES["sla_resolution_met"].label) == "Resolution met"
