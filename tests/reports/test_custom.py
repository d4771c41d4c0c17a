"""Custom reports on the hand-built month: tables, links, exports, saving, sharing, mailing."""

import re
from datetime import date

import pytest
from django.urls import reverse

from mailboxes.models import OutgoingAttachment, OutgoingEmail
from mailboxes.outbound import _build_email
from people.models import Role
from people.services import create_agent
from reports import tasks
from reports.custom import buckets, scheduled_period
from reports.measures import Period
from reports.models import ReportDelivery, SavedReport
from reports.saved import send_due_reports
from tests.reports.conftest import PERIOD
from tests.reports.test_pages import links, queue_count

RANGE = {"period": "custom", "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}
BY_WEEK = {
    **RANGE,
    "measures": ["received", "solved", "handling_business_average", "sla_resolution_met_share"],
    "group_by": "week",
    "then_by": "pool",
}


@pytest.fixture
def colleague(db):
    return create_agent(
        username="colleague", password=None, email="colleague@helpdesk.test",
        role=Role.SUPERVISOR,
    )  # fmt: skip


def rows(response) -> list[tuple[list[str], list]]:
    table = response.context["custom"]
    return [(labels, [cell.value for cell in cells]) for labels, cells in table.rows]


def test_by_week_and_pool_the_rows_add_up_and_every_number_lists_its_tickets(
    client, supervisor, month, settings
):
    settings.QUEUE_PAGE_SIZE = 100
    client.force_login(supervisor)
    response = client.get(reverse("reports:custom"), BY_WEEK)
    assert response.status_code == 200
    table = response.context["custom"]
    assert table.headers == ["Week", "Pool"]
    # Weeks from Sunday in English: 19-24 October, 25-31, 1-7 November, 8-14, 15.
    assert [labels[1] for labels, _cells in table.rows] == ["Billing"] * 5
    received = [cells[0].value for _labels, cells in table.rows]
    solved = [cells[1].value for _labels, cells in table.rows]
    assert received == [1, 0, 3, 3, 0] and solved == [0, 1, 3, 1, 0]
    assert sum(received) == table.total[0].value == 7
    assert sum(solved) == table.total[1].value == 5
    found = links(response.content.decode())
    assert len(found) >= 10
    for href, shown in found:
        assert queue_count(client, href) == int(shown), href


def test_two_dimensions(client, supervisor, month):
    client.force_login(supervisor)
    response = client.get(
        reverse("reports:custom"),
        {**RANGE, "measures": ["received", "reopened"], "group_by": "pool", "then_by": "channel"},
    )
    assert rows(response) == [
        (["Billing", "Email"], [6, 1]),
        (["Billing", "Customer portal"], [1, 0]),
    ]
    chart = response.context["chart"]
    assert chart["labels"] == ["Billing"]
    assert [dataset["label"] for dataset in chart["datasets"]] == ["Email", "Customer portal"]


def test_by_day_then_agent_and_the_first_visit(client, supervisor, agent, month):
    client.force_login(supervisor)
    response = client.get(reverse("reports:custom"), RANGE)  # the default report
    assert response.status_code == 200 and rows(response) == [(["Billing"], [7, 5])]
    response = client.get(
        reverse("reports:custom"),
        {**RANGE, "measures": ["received"], "group_by": "day", "then_by": "agent"},
    )
    days = rows(response)
    assert len(days) == PERIOD.days * 2  # the agent, and nobody (D, merged untaken)
    assert sum(values[0] for _labels, values in days) == 7


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"group_by": "pool", "then_by": "pool"}, "two different groupings"),
        ({"group_by": "week", "then_by": "month"}, "day, week or month at most"),
        ({"group_by": "month", "measures": ["open_now"]}, "figure of this moment"),
        ({"group_by": "day", "start": "2026-01-01", "end": "2026-12-31"}, "Too many periods"),
        ({"group_by": "pool", "measures": ["nonsense"]}, "Select a valid choice"),
    ],
)
def test_what_cannot_be_computed_is_said(client, supervisor, month, params, error):
    client.force_login(supervisor)
    response = client.get(reverse("reports:custom"), {**RANGE, "measures": "received", **params})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert response.context["custom"] is None


def test_exports(client, supervisor, month):
    client.force_login(supervisor)
    url = reverse("reports:custom")
    lines = client.get(url, {**BY_WEEK, "export": "csv"}).content.decode().splitlines()
    assert lines[0].startswith("Week,Pool,Received,Solved,")
    assert lines[-1].startswith("Total,,7,5,")
    assert client.get(url, {**BY_WEEK, "export": "xlsx"}).content[:2] == b"PK"
    response = client.get(url, {**BY_WEEK, "export": "pdf"})
    assert response.content.startswith(b"%PDF-") and len(response.content) > 5000


# Session, user, profile, permissions (5); pools, topics, products, agents, tags,
# organizations for the filters (6); saved reports (1); then per source, the rows (facts,
# deadlines: 2) and the total (the facts and the deadlines' counts from the roll-up, the
# repeats of those counts from the marks: 2).
def test_a_fixed_number_of_queries(client, supervisor, month, django_assert_num_queries):
    client.force_login(supervisor)
    client.get(reverse("reports:custom"), BY_WEEK)
    with django_assert_num_queries(16):
        client.get(reverse("reports:custom"), BY_WEEK)


def test_save_open_and_share(client, supervisor, colleague, agent, month):
    client.force_login(supervisor)
    response = client.post(
        reverse("reports:save"), {**BY_WEEK, "name": "Weekly load", "tab": "ignored"}
    )
    report = SavedReport.objects.get()
    assert response["Location"] == reverse("reports:saved", args=[report.pk])
    assert report.owner == supervisor and report.name == "Weekly load"
    assert report.query["measures"] == BY_WEEK["measures"] and "tab" not in report.query
    response = client.get(response["Location"])
    assert response.status_code == 200 and rows(response)[0][1][:2] == [1, 0]
    # Saving again under the same name replaces it.
    client.post(reverse("reports:save"), {**BY_WEEK, "group_by": "month", "name": "Weekly load"})
    assert SavedReport.objects.get().query["group_by"] == "month"

    # Not shared yet: the colleague does not find it.
    url = reverse("reports:saved", args=[report.pk])
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    client.force_login(supervisor)
    # Only supervisors are offered; an agent's id is refused.
    response = client.post(
        reverse("reports:share", args=[report.pk]),
        {"shared_with": [agent.pk], "schedule": "weekly"},
    )
    assert response.status_code == 400 and not report.shared_with.exists()
    client.post(
        reverse("reports:share", args=[report.pk]),
        {"shared_with": [colleague.pk], "schedule": "monthly"},
    )
    report.refresh_from_db()
    assert list(report.shared_with.all()) == [colleague] and report.schedule == "monthly"
    client.force_login(colleague)
    response = client.get(url)
    assert response.status_code == 200 and "shared by" in response.content.decode()
    assert "sharing" not in response.context  # only the owner changes it
    assert client.post(reverse("reports:share", args=[report.pk]), {}).status_code == 404
    assert client.post(reverse("reports:delete", args=[report.pk])).status_code == 404
    client.force_login(supervisor)
    client.post(reverse("reports:delete", args=[report.pk]))
    assert not SavedReport.objects.exists()


def test_weeks_start_on_the_locales_first_day(settings):
    from django.utils import translation

    period = Period(date(2026, 11, 4), date(2026, 11, 17))  # a Wednesday to a Tuesday
    with translation.override("en"):
        spans = [span for _label, span in buckets(period, "week")]
    assert spans[0] == Period(date(2026, 11, 4), date(2026, 11, 7))  # until Saturday
    with translation.override("pl"):
        spans = [span for _label, span in buckets(period, "week")]
    assert spans[0] == Period(date(2026, 11, 4), date(2026, 11, 8))  # until Sunday
    assert spans[-1] == Period(date(2026, 11, 16), date(2026, 11, 17))
    months = buckets(Period(date(2026, 1, 31), date(2026, 3, 2)), "month")
    assert [span for _label, span in months] == [
        Period(date(2026, 1, 31), date(2026, 1, 31)),
        Period(date(2026, 2, 1), date(2026, 2, 28)),
        Period(date(2026, 3, 1), date(2026, 3, 2)),
    ]


def test_the_scheduled_period():
    assert scheduled_period("weekly", date(2026, 11, 18)) == Period(
        date(2026, 11, 9), date(2026, 11, 15)
    )
    assert scheduled_period("monthly", date(2026, 11, 1)) == Period(
        date(2026, 10, 1), date(2026, 10, 31)
    )


def test_scheduled_reports_are_mailed_once_per_period(supervisor, colleague, month):
    report = SavedReport.objects.create(
        owner=supervisor, name="Monthly", schedule="monthly",
        query={"measures": ["received", "solved"], "group_by": "pool"},
    )  # fmt: skip
    report.shared_with.add(colleague)
    SavedReport.objects.create(owner=supervisor, name="Never mailed", query=report.query)
    reports = OutgoingEmail.objects.filter(files__isnull=False)
    assert send_due_reports(date(2026, 11, 16)) == 1
    mails = list(reports.order_by("to"))
    assert [mail.to for mail in mails] == [
        ["colleague@helpdesk.test"],
        ["supervisor@helpdesk.test"],
    ]
    assert all(mail.internal for mail in mails)
    assert "Monthly" in mails[0].subject and "10/01/2026" in mails[0].subject
    # Run again (twice the beat, a task delivered twice): nothing more.
    assert tasks.send_scheduled_reports_task() == 0
    assert send_due_reports(date(2026, 11, 16)) == 0
    assert send_due_reports(date(2026, 11, 30)) == 0
    assert reports.count() == 2
    delivery = ReportDelivery.objects.get()
    assert (delivery.start, delivery.end, delivery.recipients) == (
        date(2026, 10, 1), date(2026, 10, 31), 2,
    )  # fmt: skip
    # The next month, once more.
    assert send_due_reports(date(2026, 12, 1)) == 1
    assert reports.count() == 4
    # The PDF travels with the row and leaves with the mail.
    attachment = OutgoingAttachment.objects.filter(outgoing=mails[0]).get()
    assert bytes(attachment.content).startswith(b"%PDF-")
    email = _build_email(mails[0])
    assert [(name, kind) for name, _content, kind in email.attachments] == [
        ("Monthly-2026-10-01.pdf", "application/pdf")
    ]


def test_a_broken_report_does_not_stop_the_others(supervisor, month, caplog):
    SavedReport.objects.create(
        owner=supervisor, name="Broken", schedule="weekly",
        query={"measures": ["gone"], "group_by": "pool"},
    )  # fmt: skip
    SavedReport.objects.create(
        owner=supervisor, name="Fine", schedule="weekly",
        query={"measures": ["received"], "group_by": "pool"},
    )  # fmt: skip
    assert send_due_reports(date(2026, 11, 16)) == 1
    assert re.search(r"scheduled_report_failed", caplog.text)
    assert list(ReportDelivery.objects.values_list("report__name", flat=True)) == ["Fine"]
