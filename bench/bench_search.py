"""Benchmark full-text search in the queue at a million tickets (PostgreSQL).

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres helpdesk_search_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_search_bench \\
        .venv/bin/python bench/bench_search.py [--tickets 1000000] [--iterations 20] [--reuse]
        [--no-ingest] [--explain-ms]

Seeds in SQL (``seed_sql``: one INSERT ... SELECT each for contacts, tickets, 3 messages a
ticket and the search documents, the GIN index built after): each document is its thread's
tokens from the product's tokenizer (computed once per subject), the number and the
requester as the indexer writes them, and five words drawn from a 100,000-word vocabulary
with Zipf's law (rank r has weight 1/r), so a rare word matches a few tickets and a common
one most of them. Prints median and p95 ms and SQL queries of: the search on its own (first
25 ids) and the queue page with ``q=`` for a supervisor (all, and all with a status filter)
and an agent (waiting in 3 pools), for a rare word, a common word and a two-word phrase;
``--explain-ms`` adds the database's own time of each search; then (unless ``--no-ingest``)
the ingest rate of new mail with the index kept in the same worker versus without it.
"""

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.bench_workspace import (  # noqa: E402
    BODY,
    CHANNELS,
    OTHER_STATUSES,
    POOL_WEIGHTS,
    PRIORITIES,
    SUBJECTS,
    measure,
    page,
    seed,
)
from people.language import detect_language  # noqa: E402
from people.models import Contact, ContactEmail, Organization  # noqa: E402
from tickets import signals  # noqa: E402
from tickets.models import (  # noqa: E402
    Message,
    Pool,
    PoolMembership,
    Product,
    Ticket,
    TicketSearch,
    Topic,
)
from tickets.search import find, index_tickets, search, tokens  # noqa: E402
from tickets.services.intake import CustomerMail, receive_customer_messages  # noqa: E402

GIN_INDEX = "tickets_ticketsearch_vector"
VOCABULARY = 100_000
WORDS_PER_TICKET = 5


def vocabulary_word(rank: int) -> str:
    return f"zz{rank}"


def _columns(model, given: list[str]) -> tuple[str, list[object]]:
    """The model's column list for an INSERT ... SELECT: ``given`` first, then every other
    non-null column with the model's default as a parameter (a new field needs no change)."""
    extra = [f for f in model._meta.concrete_fields if f.attname not in given and not f.null]
    names = [model._meta.get_field(name).column for name in given] + [f.column for f in extra]
    return ", ".join(names), [f.get_db_prep_value(f.get_default(), connection) for f in extra]


def _extra_marks(params: list[object]) -> str:
    return "".join(", %s" for _ in params)


def _weighted_case(value: str, pairs) -> str:
    """A CASE picking from ``pairs`` (value, weight) by ``value``, a uniform [0, 1) number."""
    total = sum(weight for _, weight in pairs)
    whens, cumulative = [], 0.0
    for item, weight in pairs[:-1]:
        cumulative += weight / total
        whens.append(f"WHEN {value} < {cumulative!r} THEN {_literal(item)}")
    return f"CASE {' '.join(whens)} ELSE {_literal(pairs[-1][0])} END"


def _literal(item) -> str:
    if isinstance(item, int):
        return str(int(item))
    return "'" + str(item).replace("'", "''") + "'"


def seed_sql(n: int, seed_value: float = 0.7) -> None:
    """``n`` tickets, 3 messages each and their search documents, set-based in SQL.

    The workspace seed's pools, agents and supervisor first (``seed(0)``), then contacts,
    tickets (same weights as ``bench_workspace.seed``: pools, statuses, priorities, ~20%
    waiting, created over two years), messages and documents each by one INSERT ... SELECT
    over ``generate_series``; the GIN index is built once at the end instead of row by row.
    """
    started = time.perf_counter()
    seed(0, random.Random(7))
    pools = list(Pool.objects.order_by("pk").values_list("pk", flat=True))
    members: dict[int, list[int]] = {pool: [] for pool in pools}
    for pool, user in PoolMembership.objects.values_list("pool_id", "user_id"):
        members[pool].append(user)
    topics = list(Topic.objects.values_list("pk", flat=True))
    products = list(Product.objects.values_list("pk", flat=True))
    contacts = max(20, n // 5)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed_value])
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '256MB'")
        columns, defaults = _columns(Contact, ["id", "name", "organization_id", "created_at"])
        organizations = list(Organization.objects.values_list("pk", flat=True))
        cursor.execute(
            f"INSERT INTO people_contact ({columns}) SELECT g, 'Customer ' || g,"  # noqa: S608
            f" CASE WHEN mod(g, 3) <> 0 THEN (%s::bigint[])[1 + mod(g, {len(organizations)})] END,"
            f" %s{_extra_marks(defaults)} FROM generate_series(21, %s) g",
            [organizations, now, *defaults, contacts],
        )
        columns, defaults = _columns(ContactEmail, ["id", "contact_id", "address", "is_primary"])
        cursor.execute(
            f"INSERT INTO people_contactemail ({columns}) SELECT g, g,"  # noqa: S608
            f" 'customer' || g || '@example.com', true{_extra_marks(defaults)}"
            " FROM generate_series(21, %s) g",
            [*defaults, contacts],
        )
        print(f"  contacts: {contacts:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        pool_case = _weighted_case("r_pool", list(zip(pools, POOL_WEIGHTS, strict=True)))
        status_case = _weighted_case("r_status", OTHER_STATUSES)
        priority_case = _weighted_case("r_priority", PRIORITIES)
        assignee_case = (
            "CASE pool_id "
            + " ".join(
                f"WHEN {pool} THEN (ARRAY{users!r}::bigint[])"
                f"[1 + floor(r_assignee * {len(users)})::int]"
                for pool, users in members.items()
            )
            + " END"
        )
        given = [
            "id", "number", "subject", "requester_id", "pool_id", "topic_id", "product_id",
            "priority", "status", "channel", "assignee_id", "created_at", "updated_at",
            "first_response_at", "resolved_at", "closed_at", "reopen_count",
        ]  # fmt: skip
        columns, defaults = _columns(Ticket, given)
        origin = now - timedelta(days=730)
        cursor.execute(
            f"""
            INSERT INTO tickets_ticket ({columns})
            SELECT g, extract(year FROM created)::int || '-' || lpad(
                       (row_number() OVER (PARTITION BY extract(year FROM created)
                                           ORDER BY g))::text,
                       6, '0'),
                   subject, requester_id, pool_id,
                   CASE WHEN mod(g, 4) <> 0 THEN (%s::bigint[])[1 + mod(g, {len(topics)})] END,
                   CASE WHEN mod(g, 3) <> 0 THEN (%s::bigint[])[1 + mod(g, {len(products)})] END,
                   priority, status, channel, assignee, created, updated,
                   CASE WHEN assignee IS NOT NULL THEN created + interval '1 hour' END,
                   CASE WHEN status IN ('resolved', 'closed') THEN updated END,
                   CASE WHEN status IN ('closed', 'cancelled') THEN updated END,
                   0{_extra_marks(defaults)}
            FROM (
                SELECT *, CASE WHEN waiting THEN NULL ELSE {assignee_case} END AS assignee,
                       least(%s, created + interval '1 hour' * (1 + random() * 239)) AS updated,
                       CASE WHEN waiting THEN 'new' ELSE {status_case} END AS status
                FROM (
                    SELECT g, random() < 0.2 AS waiting, random() AS r_status,
                           random() AS r_assignee, {priority_case} AS priority,
                           {pool_case} AS pool_id,
                           (%s::text[])[1 + floor(random() * %s)::int] AS subject,
                           (%s::text[])[1 + floor(random() * %s)::int] AS channel,
                           1 + floor(random() * %s)::bigint AS requester_id,
                           %s + %s * ((g - 1 + random()) / %s) AS created
                    FROM (SELECT g, random() AS r_pool, random() AS r_priority
                          FROM generate_series(1, %s) g) AS base
                ) AS drawn
            ) AS t
            ORDER BY g
            """,  # noqa: S608 (our own SQL)
            [
                topics, products, *defaults, now,
                SUBJECTS, len(SUBJECTS), [str(c) for c in CHANNELS], len(CHANNELS), contacts,
                origin, timedelta(days=730), n, n,
            ],
        )  # fmt: skip
        print(f"  tickets: {n:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        given = [
            "id", "ticket_id", "kind", "author_user_id", "author_contact_id", "body_text",
            "body_html", "message_id", "created_at",
        ]  # fmt: skip
        columns, defaults = _columns(Message, given)
        cursor.execute(
            f"""
            INSERT INTO tickets_message ({columns})
            SELECT 3 * (t.id - 1) + k + 1, t.id, kind,
                   CASE WHEN kind <> 'inbound' THEN t.assignee_id END,
                   CASE WHEN kind = 'inbound' THEN t.requester_id END,
                   %s || k, CASE WHEN kind = 'inbound' THEN '<p>' || %s || k || '</p>' ELSE '' END,
                   CASE WHEN kind = 'inbound' THEN '<' || t.id || '.' || k || '@mail.example.com>'
                        ELSE '' END,
                   t.created_at + interval '1 hour' * k{_extra_marks(defaults)}
            FROM tickets_ticket t CROSS JOIN generate_series(0, 2) k
            CROSS JOIN LATERAL (SELECT CASE WHEN t.assignee_id IS NULL THEN 'inbound'
                                       ELSE (ARRAY['inbound', 'outbound', 'note'])[k + 1] END
                                AS kind) AS kinds
            """,  # noqa: S608 (our own SQL)
            [BODY, BODY, *defaults],
        )
        print(f"  messages: {3 * n:,} ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute(
            "INSERT INTO tickets_ticketsequence (year, last)"
            " SELECT extract(year FROM created_at)::int, count(*) FROM tickets_ticket GROUP BY 1"
            " ON CONFLICT (year) DO UPDATE SET last = EXCLUDED.last"
        )
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Contact, ContactEmail, Ticket, Message]
        ):
            cursor.execute(sql)
    build_documents()
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)


def build_documents(rng: random.Random | None = None) -> None:
    """Every ticket's search document, built in SQL in the form the indexer writes.

    The thread's part (subject and the three bodies) comes from the product's tokenizer for
    each subject, once; the number, the requester's name and address as ``_document`` adds
    them; then ``WORDS_PER_TICKET`` words of a ``VOCABULARY``-word list drawn with Zipf's law
    (rank r has weight about 1/r: ``floor(exp(u · ln(V + 1)))`` for a uniform u), so a rare
    word matches a few tickets and ``zz1`` about 6% of them. The GIN index is dropped while
    the rows go in and built once after.
    """
    started = time.perf_counter()
    threads = []
    for subject in SUBJECTS:
        language = detect_language(f"{subject}\n{BODY}0", default="")
        thread = [*tokens(subject, language)]
        for k in range(3):
            thread += tokens(f"{BODY}{k}", language)
        threads.append((subject, " ".join(thread)))
    zipf = " || ' ' || ".join(
        [f"'zz' || floor(exp(random() * ln({VOCABULARY + 1})))::int"] * WORDS_PER_TICKET
    )
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("TRUNCATE tickets_ticketsearch")
        cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
        cursor.execute(
            f"""
            INSERT INTO tickets_ticketsearch (ticket_id, document, indexed_at)
            SELECT t.id, replace(t.number, '-', ' ') || ' ' || threads.words
                   || coalesce(' customer ' || t.requester_id || ' customer' || t.requester_id
                               || ' example com', '')
                   || coalesce(' ' || lower(o.name), '')
                   || ' ' || {zipf}, %s
            FROM tickets_ticket t
            LEFT JOIN people_contact c ON c.id = t.requester_id
            LEFT JOIN people_organization o ON o.id = c.organization_id
            JOIN (SELECT * FROM unnest(%s::text[], %s::text[])) AS threads (subject, words)
              ON threads.subject = t.subject
            """,  # noqa: S608 (our own SQL)
            [timezone.now(), [s for s, _ in threads], [w for _, w in threads]],
        )
        print(f"  documents: {cursor.rowcount:,} ({time.perf_counter() - started:.0f} s)")
        cursor.execute(f"CREATE INDEX {GIN_INDEX} ON tickets_ticketsearch USING gin (vector)")
        print(f"  GIN index ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("VACUUM ANALYZE")


def matches(word: str) -> str:
    """How many tickets the search finds for a supervisor ("2,000+" above the cap)."""
    return find(Ticket.objects.all(), word).label()


def explain_ms(cases, texts) -> None:
    """PostgreSQL's own time (EXPLAIN ANALYZE, best of 3) of each statement a search runs
    for the first 25 rows: the candidate read, then the ranking of those rows."""
    for text in texts:
        for who, queryset in cases:
            captured: list = []

            def wrap(execute, sql, params, many, context, captured=captured):
                captured.append((sql, params))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(wrap):
                found = search(queryset(), text).order_by("-search_rank", "-created_at", "-id")
                list(found.values_list("pk", flat=True)[:25])
            times = []
            with connection.cursor() as cursor:
                # What find() sets for its statement (SET LOCAL) holds here for the session.
                cursor.execute(
                    "SET max_parallel_workers_per_gather = 0; SET enable_mergejoin = off;"
                    " SET enable_hashjoin = off"
                )
                for sql, params in captured:
                    if not sql.startswith(("SELECT", "WITH")):
                        continue
                    best = math.inf
                    for _ in range(3):
                        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                        plan = "\n".join(row[0] for row in cursor.fetchall())
                        best = min(best, float(plan.rsplit("Execution Time: ", 1)[1].split()[0]))
                    times.append(best)
                cursor.execute("RESET ALL")
            shown = " + ".join(f"{t:.1f}" for t in times)
            print(f"  EXPLAIN {text:<16} {who:<28} {shown} = {sum(times):.1f} ms", flush=True)


def ingest_rate(n: int, *, indexed: bool, pool: Pool) -> float:
    """New tickets a second through the intake path, the index built in the same process."""
    contacts = list(Contact.objects.order_by("pk")[:50])
    started = time.perf_counter()
    for start in range(0, n, 100):
        mails = [
            CustomerMail(
                contact=contacts[i % len(contacts)],
                subject=SUBJECTS[i % len(SUBJECTS)],
                body_text=f"{BODY} bench {i}",
                pool=pool,
            )
            for i in range(start, min(start + 100, n))
        ]
        receive_customer_messages(mails)
        if indexed:
            index_tickets([mail.ticket.pk for mail in mails])
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--ingest", type=int, default=2_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each case's slowest")
    parser.add_argument("--no-ingest", action="store_true", help="only the searches")
    parser.add_argument(
        "--explain-ms", action="store_true", help="the database's own time of each search"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Needs PostgreSQL (DATABASE_URL): the figures are for its GIN index.")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The ingest cases add tickets: a reused data set may hold a few more than asked for.
    if not (args.reuse and Ticket.objects.count() >= args.tickets):
        print(f"Seeding {args.tickets:,} tickets...", flush=True)
        seed_sql(args.tickets)
    elif TicketSearch.objects.count() < args.tickets:
        build_documents()
    users = get_user_model().objects
    supervisor, agent = Client(), Client()
    supervisor.force_login(users.get(username="bench-supervisor"))
    agent.force_login(users.get(username="bench-agent-00"))  # 3 of the 8 pools
    rare = vocabulary_word(60_000)
    common = "service"  # in every body
    phrase = '"not working"'  # two words of every body that never meet
    print(f"rare word {rare!r}: {matches(rare)} tickets; common {common!r}: {matches(common)};")
    print(f"phrase {phrase}: {matches(phrase)}", flush=True)
    print(f"{'case':<58} {'ms med':>9} {'p95':>8} {'SQL ms':>7} {'queries':>7}")
    for label, text in (("rare word", rare), ("common word", common), ("phrase", phrase)):
        measure(
            f"search, first 25, supervisor ({label})",
            lambda text=text: list(
                search(Ticket.objects.all(), text)
                .order_by("-search_rank", "-created_at", "-id")
                .values_list("pk", flat=True)[:25]
            ),
            args.iterations,
            args.explain,
        )
        for who, client, query in (
            ("supervisor, all", supervisor, "tab=all"),
            ("supervisor, all + status", supervisor, "tab=all&status=in_progress"),
            ("agent, waiting in 3 pools", agent, "tab=waiting"),
        ):
            measure(
                f"queue q=, {who} ({label})",
                page(client, f"/tickets/?{query}&q={text}"),
                args.iterations,
                args.explain,
            )
    if args.explain_ms:
        pools = list(
            PoolMembership.objects.filter(user__username="bench-agent-00").values_list(
                "pool_id", flat=True
            )
        )
        explain_ms(
            [
                ("supervisor, all", lambda: Ticket.objects.all()),
                ("supervisor, all + status", lambda: Ticket.objects.filter(status="in_progress")),
                ("agent, waiting in 3 pools", lambda: Ticket.objects.waiting().in_pools(pools)),
            ],
            (rare, common, phrase),
        )
    if args.no_ingest:
        return
    # Ingest with and without the index, in one run (the worker does both in production).
    pool = Pool.objects.order_by("pk").first()
    receivers = signals.tickets_created.receivers, signals.messages_added.receivers
    signals.tickets_created.receivers, signals.messages_added.receivers = [], []
    try:
        # Interleaved, after a warm-up of each: neither side gets the colder caches or the
        # smaller tables of running first.
        ingest_rate(args.ingest, indexed=False, pool=pool)
        ingest_rate(args.ingest, indexed=True, pool=pool)
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _round in range(3):
            for indexed in (False, True):
                runs[indexed].append(ingest_rate(args.ingest, indexed=indexed, pool=pool))
        plain, kept = statistics.median(runs[False]), statistics.median(runs[True])
    finally:
        signals.tickets_created.receivers, signals.messages_added.receivers = receivers
    print(
        f"ingest without index: {plain:.0f} tickets/s; with the index kept: {kept:.0f} tickets/s"
        f" ({kept / plain:.0%})"
    )


if __name__ == "__main__":
    main()
