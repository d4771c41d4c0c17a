"""Saved custom reports: who may open them, sharing, and mailing them on a schedule."""

import logging
from datetime import date

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation

from mailboxes.emails import language_of, render_files
from mailboxes.notifications import queue_automatic_email
from people.features import Feature
from people.profiles import has_feature
from people.roles import SEE_ALL_POOLS, is_agent
from reports import pdf
from reports.custom import custom_table, form_for, scheduled_period
from reports.models import ReportDelivery, SavedReport
from reports.scope import scope_of
from sla.notifications import time_zone_of

logger = logging.getLogger(__name__)

# The backend that knows the roles' permissions (the other one only counts sign-in failures).
PERMISSIONS = "django.contrib.auth.backends.ModelBackend"


def readable_by(user):
    """The saved reports ``user`` may open: their own and those shared with them."""
    return SavedReport.objects.filter(Q(owner=user) | Q(shared_with=user)).distinct()


def report_for(user, pk: int) -> SavedReport:
    """A saved report ``user`` may open; 404 for any other (nobody learns it exists)."""
    report = readable_by(user).filter(pk=pk).select_related("owner").first()
    if report is None or not is_agent(user):
        raise Http404
    return report


def own_report(user, pk: int) -> SavedReport:
    """A saved report of ``user``'s own (to change, share or delete); 404 otherwise."""
    report = SavedReport.objects.filter(owner=user, pk=pk).first()
    if report is None:
        raise Http404
    return report


def colleagues(user):
    """Whom ``user`` may share a report with: the other active supervisors and admins."""
    return (
        get_user_model()
        .objects.with_perm(
            SEE_ALL_POOLS, is_active=True, include_superusers=True, backend=PERMISSIONS
        )
        .exclude(pk=user.pk)
        .order_by("username")
    )


@transaction.atomic
def save_report(owner, name: str, query: dict) -> SavedReport:
    """Save the report's parameters under ``name`` (replacing the owner's report of that name)."""
    report, _created = SavedReport.objects.update_or_create(
        owner=owner, name=name.strip(), defaults={"query": query}
    )
    return report


@transaction.atomic
def change_sharing(report: SavedReport, *, shared_with, schedule: str) -> SavedReport:
    """Share ``report`` with these supervisors only, and mail it on ``schedule``."""
    allowed = set(colleagues(report.owner).values_list("pk", flat=True))
    report.shared_with.set([user for user in shared_with if user.pk in allowed])
    report.schedule = schedule
    report.save(update_fields=["schedule", "updated_at"])
    return report


def readers(report: SavedReport) -> list:
    """Who receives a scheduled report: its owner and those it is shared with, while they
    are active agents with an address whose access profile includes reports."""
    users = [report.owner, *report.shared_with.select_related("agent_profile__access_profile")]
    return [user for user in users if has_feature(user, Feature.REPORTS) and user.email]


def report_context(report: SavedReport, user, period) -> dict:
    """The report for ``period``, computed in ``user``'s scope (what their PDF shows)."""
    query = {**report.query, "period": "custom", "start": period.start.isoformat()}
    query["end"] = period.end.isoformat()
    form = form_for(query)
    scope = scope_of(user, form.data)
    table = custom_table(scope, form)
    if table is None:
        raise ValueError(f"saved report {report.pk} is no longer valid: {form.errors.as_json()}")
    context = {
        "title": report.name,
        "scope": scope,
        "periods": {"now": period},
        "custom": table,
        "chart": table.chart,
        "single_period": True,
    }
    return context


def send_report(report: SavedReport, period) -> int:
    """Queue the report for ``period`` to each reader, in their language, time zone and
    scope; the number of mails queued."""
    queued = 0
    for user in readers(report):
        language = language_of(user)
        with translation.override(language), timezone.override(time_zone_of(user)):
            content = pdf.render(report_context(report, user, period))
            rendered = render_files(
                "reports/emails/scheduled_report",
                {"report": report, "period": period, "recipient": user},
            )
            filename = f"{report.name}-{period.start.isoformat()}.pdf".replace("/", "-")
            outgoing = queue_automatic_email(
                to_address=user.email,
                rendered=rendered,
                to_customer=False,
                attachments=[(filename, content, "application/pdf")],
            )
        queued += outgoing is not None
    return queued


def send_due_reports(today: date | None = None) -> int:
    """Mail every scheduled report not yet mailed for its last whole week or month: once
    per period, however often this runs (a ReportDelivery row per report and period,
    written in the same transaction as the outbox rows). The number of reports mailed."""
    today = today or timezone.localdate()
    sent = 0
    scheduled = SavedReport.objects.exclude(schedule="").select_related("owner")
    for report in scheduled.order_by("pk"):
        period = scheduled_period(report.schedule, today)
        if ReportDelivery.objects.filter(
            report=report, start=period.start, end=period.end
        ).exists():
            continue
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    report=report, start=period.start, end=period.end
                )
                delivery.recipients = send_report(report, period)
                delivery.save(update_fields=["recipients"])
        except IntegrityError:
            continue  # another run mailed it meanwhile
        except Exception:
            logger.exception("reports.scheduled_report_failed report=%s", report.pk)
            continue
        sent += 1
    return sent
