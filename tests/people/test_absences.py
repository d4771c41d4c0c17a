"""Agents record their own absences; supervisors approve them; only approved ones count."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from people.models import Absence
from people.services import decide_absence, request_absence, withdraw_absence
from tests.conftest import _agent
from tickets.models import Ticket
from tickets.services import pull_next_ticket

SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=SP)  # a Monday


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.TIME_ZONE = "America/Sao_Paulo"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def colleague(pool):
    return _agent("bruno", pools=[pool])


def _ask(client, first, last, substitute=None, reason="Vacation"):
    data = {"first_day": first, "last_day": last, "reason": reason}
    if substitute is not None:
        data["substitute"] = substitute.pk
    return client.post(reverse("people:absences"), data)


def test_an_agent_asks_for_whole_days_in_their_time_zone(agent_client, agent, colleague):
    response = _ask(agent_client, "2026-12-07", "2026-12-09", substitute=colleague)
    assert response.status_code == 302
    absence = Absence.objects.get()
    assert absence.state == Absence.State.REQUESTED
    assert absence.starts_at == datetime(2026, 12, 7, 0, 0, tzinfo=SP)
    assert absence.ends_at == datetime(2026, 12, 10, 0, 0, tzinfo=SP)
    assert (absence.first_day, absence.last_day) == (date(2026, 12, 7), date(2026, 12, 9))
    page = agent_client.get(reverse("people:absences")).content.decode()
    assert "awaiting approval" in page


def test_a_bad_request_says_what_is_wrong(agent_client, agent):
    backwards = _ask(agent_client, "2026-12-09", "2026-12-07")
    assert backwards.status_code == 400
    assert "The last day cannot be before the first." in backwards.content.decode()
    _ask(agent_client, "2026-12-07", "2026-12-09")
    overlap = _ask(agent_client, "2026-12-09", "2026-12-11")
    assert overlap.status_code == 400
    assert "This overlaps another absence" in overlap.content.decode()
    assert Absence.objects.count() == 1


def test_a_request_counts_only_once_approved(agent, colleague, pool, supervisor):
    Ticket.objects.create(number="T-1", subject="x", pool=pool, assignee=agent, status="taken")
    absence = request_absence(
        agent, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=1),
        substitute=colleague,
    )  # fmt: skip
    assert not Absence.objects.current().exists()
    assert pull_next_ticket(agent=colleague) is None  # covers nobody yet
    decide_absence(absence, approve=True, by=supervisor)
    assert list(Absence.objects.current()) == [absence]
    assert pull_next_ticket(agent=agent) is None
    assert pull_next_ticket(agent=colleague).number == "T-1"


def test_the_supervisor_edits_then_approves(client, supervisor, agent, colleague):
    absence = request_absence(agent, starts_at=NOW, ends_at=NOW + timedelta(days=2))
    client.force_login(supervisor)
    team = client.get(reverse("people:team")).content.decode()
    assert "Waiting for your decision" in team and agent.get_full_name() in team
    url = reverse("people:absence-decide", args=[absence.pk])
    response = client.post(
        url,
        {"first_day": "2026-12-08", "last_day": "2026-12-08", "substitute": colleague.pk,
         "approve": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.state == Absence.State.APPROVED
    assert absence.decided_by == supervisor
    assert absence.substitute == colleague
    assert absence.first_day == absence.last_day == date(2026, 12, 8)


def test_the_supervisor_rejects(client, supervisor, agent):
    absence = request_absence(agent, starts_at=NOW, ends_at=NOW + timedelta(days=2))
    client.force_login(supervisor)
    url = reverse("people:absence-decide", args=[absence.pk])
    assert client.post(url, {"reject": "1"}).status_code == 302
    absence.refresh_from_db()
    assert absence.state == Absence.State.REJECTED
    assert not Absence.objects.current().exists()


def test_the_team_page_shows_who_is_away_today(client, supervisor, agent, colleague, make_absence):
    make_absence(agent, substitute=colleague)
    client.force_login(supervisor)
    page = client.get(reverse("people:team")).content.decode()
    away = page.split('id="away-now"')[1].split("</ul>")[0]
    assert agent.get_full_name() in away and f"Substitute: {colleague.get_full_name()}" in away


def test_a_begun_absence_cannot_be_withdrawn_by_the_agent(agent, make_absence):
    begun = make_absence(agent)
    with pytest.raises(ValidationError):
        withdraw_absence(begun, agent=agent)
    later = request_absence(
        agent, starts_at=NOW + timedelta(days=5), ends_at=NOW + timedelta(days=6)
    )
    withdraw_absence(later, agent=agent)
    assert list(Absence.objects.all()) == [begun]


def test_next_ticket_tells_an_absent_agent_why(agent_client, agent, pool, make_absence):
    Ticket.objects.create(number="T-9", subject="x", pool=pool)
    make_absence(agent)
    response = agent_client.post(reverse("tickets:next"), follow=True)
    assert "You are recorded as away until" in response.content.decode()
    assert Ticket.objects.get().assignee is None


def test_agents_and_customers_cannot_decide(agent_client, customer_client, agent, colleague):
    absence = request_absence(colleague, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    url = reverse("people:absence-decide", args=[absence.pk])
    assert agent_client.get(reverse("people:team")).status_code == 404
    assert agent_client.post(url, {"reject": "1"}).status_code == 404
    assert customer_client.get(reverse("people:absences")).status_code == 404
    assert customer_client.get(reverse("people:team")).status_code == 404
    absence.refresh_from_db()
    assert absence.state == Absence.State.REQUESTED


def test_an_agent_cannot_withdraw_someone_elses(agent_client, colleague):
    absence = request_absence(
        colleague, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=4)
    )
    url = reverse("people:absence-withdraw", args=[absence.pk])
    assert agent_client.post(url).status_code == 404
    assert Absence.objects.filter(pk=absence.pk).exists()
