"""Benchmark the report pages on a large data set (PostgreSQL).

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres hd_reports_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_reports_bench \\
        .venv/bin/python bench/bench_reports.py [--tickets 100000] [--iterations 20] [--reuse]

Seeds tickets, messages and history as ``bench_workspace.py`` does (two years of history,
3 messages a ticket), then the report tables with set-based SQL: one report fact per ticket
(business time taken as a third of the clock time: the figures need values, not exact
ones), first-response and resolution deadlines (a fifth missed), reopens and replies after
closing, consultations on a ticket in eleven, and a satisfaction survey on a solved ticket in
ten, and the daily roll-up from the facts (``reports.rollup.rebuild``). Prints the median and
p95 milliseconds and the query count of the indicators dashboard, the breakdowns, the period
report for a month and a year, and custom reports with two groupings. PostgreSQL only.
``--reuse`` on a database seeded before the roll-up existed fills it first.
"""

import gc
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from bench import bench_workspace as workspace
from people.models import Department
from reports import rollup
from reports.models import ReportDay, ReportOpen, TicketFact
from surveys.models import Question, Questionnaire
from tickets.models import Message, Ticket

SEED_SQL = """
INSERT INTO reports_ticketfact (ticket_id, calendar_id, created_at, channel, first_response_at,
    first_response_seconds, first_response_business_seconds, finished_at, handling_seconds,
    handling_business_seconds, late, consulted, pool_key, assignee_key, open)
SELECT id, NULL, created_at, channel, first_response_at,
    extract(epoch FROM first_response_at - created_at)::int,
    extract(epoch FROM first_response_at - created_at)::int / 3,
    CASE WHEN status IN ('resolved', 'closed') THEN coalesce(resolved_at, closed_at) END,
    CASE WHEN status IN ('resolved', 'closed')
        THEN extract(epoch FROM coalesce(resolved_at, closed_at) - created_at)::int END,
    CASE WHEN status IN ('resolved', 'closed')
        THEN extract(epoch FROM coalesce(resolved_at, closed_at) - created_at)::int / 3 END,
    status IN ('resolved', 'closed') AND id %% 5 = 0, id %% 11 = 0,
    coalesce(pool_id, 0), coalesce(assignee_id, 0),
    status IN ('new', 'taken', 'in_progress', 'consultation', 'waiting_customer')
FROM tickets_ticket;

INSERT INTO sla_deadline (ticket_id, pool_id, target, state, budget_seconds, consumed_seconds,
    started_at, due_at, met_at, breached_at)
SELECT id, pool_id, 'first_response', 'met', 7200, 0, created_at,
    created_at + interval '2 hours', first_response_at,
    CASE WHEN id %% 5 = 0 THEN created_at + interval '2 hours' END
FROM tickets_ticket WHERE first_response_at IS NOT NULL;

INSERT INTO sla_deadline (ticket_id, pool_id, target, state, budget_seconds, consumed_seconds,
    started_at, due_at, met_at, breached_at)
SELECT id, pool_id, 'resolution', 'met', 172800, 0, created_at,
    created_at + interval '2 days', coalesce(resolved_at, closed_at),
    CASE WHEN id %% 10 = 0 THEN created_at + interval '2 days' END
FROM tickets_ticket WHERE status IN ('resolved', 'closed');

INSERT INTO reports_reportevent (ticket_id, kind, at, pool_id, assignee_id)
SELECT id, 'reopened', created_at + interval '1 day', pool_id, assignee_id
FROM tickets_ticket WHERE id %% 20 = 0
UNION ALL
SELECT id, 'reply_after_close', created_at + interval '1 day', pool_id, assignee_id
FROM tickets_ticket WHERE id %% 40 = 0;

INSERT INTO sla_consultation (ticket_id, department_id, state, asked_at, due_at, answered_at,
    reminders_sent)
SELECT id, %(department)s, 'answered', created_at + interval '2 hours',
    created_at + interval '6 hours', created_at + interval '4 hours' * (1 + id %% 2), 0
FROM tickets_ticket WHERE id %% 11 = 0;

INSERT INTO surveys_response (questionnaire_id, kind, ticket_id, agent_id, pool_id, created_at)
SELECT %(survey)s, 'satisfaction', id, assignee_id, pool_id,
    coalesce(resolved_at, closed_at) + interval '1 hour'
FROM tickets_ticket WHERE status IN ('resolved', 'closed') AND id %% 10 = 3;

INSERT INTO surveys_answer (response_id, question_id, number, text)
SELECT id, %(rating)s, 1 + ticket_id %% 5, '' FROM surveys_response
UNION ALL
SELECT id, %(score)s, ticket_id %% 11, '' FROM surveys_response;
"""


OPEN_SQL = """
UPDATE reports_ticketfact f SET open = true FROM tickets_ticket t WHERE t.id = f.ticket_id
    AND t.status IN ('new', 'taken', 'in_progress', 'consultation', 'waiting_customer');
INSERT INTO reports_reportopen (pool_id, assignee_id, pool_key, assignee_key, open)
SELECT nullif(pool_key, 0), nullif(assignee_key, 0), pool_key, assignee_key, count(*)
FROM reports_ticketfact WHERE open GROUP BY pool_key, assignee_key;
VACUUM ANALYZE reports_ticketfact;
"""

KEYS_SQL = """
UPDATE reports_ticketfact f SET pool_key = coalesce(t.pool_id, 0),
    assignee_key = coalesce(t.assignee_id, 0)
FROM tickets_ticket t WHERE t.id = f.ticket_id
"""


def seed_reports() -> None:
    department = Department.objects.create(
        name="Legal", email="legal@example.com", response_time=timedelta(hours=4)
    )
    survey = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    rating = Question.objects.create(questionnaire=survey, text="Rate us", kind="rating")
    score = Question.objects.create(questionnaire=survey, text="Recommend us?", kind="score")
    ids = {"department": department.pk, "survey": survey.pk, "rating": rating.pk}
    ids["score"] = score.pk
    with connection.cursor() as cursor:
        for statement in SEED_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, ids)
    fill_rollup()


def fill_rollup() -> None:
    """The daily roll-up from the facts (what ``rebuild_report_facts`` ends with)."""
    started = time.perf_counter()
    rows = rollup.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"Rolled the facts up into {rows:,} day rows in {time.perf_counter() - started:.0f} s.")


def run(args) -> None:
    User = get_user_model()  # noqa: N806
    agent = User.objects.get(username="bench-agent-00")
    supervisor = User.objects.get(username="bench-supervisor")
    agent_client, supervisor_client = Client(), Client()
    agent_client.force_login(agent)
    supervisor_client.force_login(supervisor)
    today = datetime.now(UTC).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    month = f"period=custom&start={last_month.replace(day=1)}&end={last_month}"
    year = f"period=custom&start={today - timedelta(days=364)}&end={today}"
    dashboard = reverse("reports:dashboard")
    breakdown = reverse("reports:breakdown")
    period = reverse("reports:period")
    custom = reverse("reports:custom")
    quarter = f"period=custom&start={today - timedelta(days=90)}&end={today}"
    measures = "measures=received&measures=solved&measures=handling_business_average"
    cases = [
        ("dashboard: supervisor, this month", supervisor_client, f"{dashboard}"),
        ("dashboard: supervisor, last 30 days", supervisor_client, f"{dashboard}?period=last30"),
        ("dashboard: supervisor, a year", supervisor_client, f"{dashboard}?{year}"),
        ("dashboard: agent (my figures), this month", agent_client, f"{dashboard}"),
        ("breakdown by pool, a month", supervisor_client, f"{breakdown}?by=pool&{month}"),
        ("breakdown by agent, a year", supervisor_client, f"{breakdown}?by=agent&{year}"),
        ("satisfaction by agent, a month", supervisor_client,
         f"{breakdown}?view=satisfaction&by=agent&{month}"),
        ("period report, a month", supervisor_client, f"{period}?{month}"),
        ("period report, a year", supervisor_client, f"{period}?{year}"),
        ("period report of one agent, a year", agent_client, f"{period}?{year}"),
        ("custom: pool x month, a year", supervisor_client,
         f"{custom}?{measures}&group_by=pool&then_by=month&{year}"),
        ("custom: agent x pool, a year", supervisor_client,
         f"{custom}?{measures}&group_by=agent&then_by=pool&{year}"),
        ("custom: week x priority, a quarter", supervisor_client,
         f"{custom}?{measures}&group_by=week&then_by=priority&{quarter}"),
        ("custom: my figures by month, a year", agent_client,
         f"{custom}?{measures}&group_by=month&{year}"),
    ]  # fmt: skip
    gc.collect()
    gc.freeze()
    print(f"{'case':<46} {'median ms':>9} {'p95 ms':>8} {'SQL ms':>7} {'queries':>7}")
    for label, client, url in cases:
        if args.only in label:
            workspace.measure(label, workspace.page(client, url), args.iterations, args.explain)


def main() -> None:
    args = workspace.arguments(__doc__ or "", iterations=20)
    if connection.vendor != "postgresql":
        sys.exit("The report benchmark runs on PostgreSQL (set DATABASE_URL).")
    call_command("migrate", interactive=False, verbosity=0)
    present = Ticket.objects.count()
    if args.reuse and present == args.tickets and TicketFact.objects.exists():
        print(f"Reusing {present:,} tickets.")
        # Index-only scans need the visibility map: after a migration built new covering
        # indexes (or a rebuild rewrote the facts), vacuum first (quick when nothing did).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_ticketfact, sla_deadline")
        if not ReportDay.objects.exists():  # seeded before the roll-up existed
            with connection.cursor() as cursor:
                cursor.execute(KEYS_SQL)
            fill_rollup()
        elif not ReportOpen.objects.exists():  # seeded before the open counts existed
            with connection.cursor() as cursor:
                for statement in OPEN_SQL.split(";\n"):
                    if statement.strip():
                        cursor.execute(statement)
    else:
        started = time.perf_counter()
        workspace.seed(args.tickets, random.Random(args.seed))
        seed_reports()
        print(f"Seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"\npostgresql {version}, {Ticket.objects.count():,} tickets, "
        f"{Message.objects.count():,} messages, {args.iterations} timed runs after "
        f"{workspace.WARMUP} warm-up, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    run(args)


if __name__ == "__main__":
    main()
