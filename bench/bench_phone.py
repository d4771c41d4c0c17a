"""Benchmark caller lookup at 1,000,000 calls and 1,000,000 contacts (PostgreSQL).

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres hd_phone_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_phone_bench \\
        .venv/bin/python bench/bench_phone.py [--contacts 1000000] [--calls 1000000] [--reuse]

Seeds contacts with one Brazilian mobile number each, and calls over a year of which
seven in ten come from a contact's number, with set-based SQL (``generate_series``). Then
times what the phone desk asks: the contact of a number (a ringing call), contacts by the
start of a number (the wizard's search), the calls of a number (Records), and the distinct
numbers that start with what the agent typed (Filters), through the functions the views
call, as an agent of one pool. Prints median and p95 milliseconds and the query count.
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from people.models import Contact, ContactPhone  # noqa: E402
from people.services import create_agent  # noqa: E402
from phone.models import Call  # noqa: E402
from phone.services import contact_for_number, numbers_starting_with  # noqa: E402
from tickets.models import Pool, PoolMembership  # noqa: E402

# A contact's number from its id: area codes 11..90, mobile "9" and eight digits spread
# over the range (a multiplicative hash, so neighbouring ids are far apart).
NUMBER_SQL = (
    "'+55' || (11 + ({id} %% 80))::text || '9' || lpad((({id} * 7919) %% 100000000)::text, 8, '0')"
)

CONTACTS_SQL = f"""
INSERT INTO people_contact (name, role, language, notes, created_at)
SELECT 'Contact ' || g, '', '', '', now() - (g || ' seconds')::interval
FROM generate_series(1, %(contacts)s) AS g;

INSERT INTO people_contactphone (contact_id, number, digits, e164, kind)
SELECT id, {NUMBER_SQL.format(id="id")}, substr({NUMBER_SQL.format(id="id")}, 2),
       {NUMBER_SQL.format(id="id")}, 'mobile'
FROM people_contact;
"""  # noqa: S608 (built from constants; values are parameters)

CALLS_SQL = f"""
INSERT INTO phone_call (call_id, direction, from_number, to_number, customer_number, state,
    pool_id, started_at, notes, contact_id)
SELECT 'bench-' || g, 'in', n.number, '4000', n.number, 'ended',
       CASE WHEN g %% 4 = 0 THEN %(other_pool)s ELSE %(pool)s END,
       now() - ((g %% 525600) || ' minutes')::interval, '', NULL
FROM generate_series(1::bigint, %(calls)s) AS g,
LATERAL (SELECT CASE WHEN g %% 10 < 7
    THEN {NUMBER_SQL.format(id="(g * 13 %% %(contacts)s + %(first)s)")}
    ELSE '+55' || (11 + (g %% 80))::text || '8' || lpad(((g * 104729) %% 100000000)::text, 8, '0')
END AS number) AS n;
"""  # noqa: S608 (built from constants; values are parameters)


def seed(contacts: int, calls: int) -> None:
    name = connection.settings_dict["NAME"]
    if "bench" not in name:
        sys.exit(f"Refusing to wipe {name}: the database name must contain 'bench'.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    pool = Pool.objects.create(name="Phone desk")
    other = Pool.objects.create(name="Other desk")
    agent = create_agent(username="bench-agent", password="x-bench-123", role="agent")  # noqa: S106
    PoolMembership.objects.create(pool=pool, user=agent)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(CONTACTS_SQL, {"contacts": contacts})
        cursor.execute("SELECT min(id) FROM people_contact")
        first = cursor.fetchone()[0]
        values = {"contacts": contacts, "calls": calls, "first": first}
        cursor.execute(CALLS_SQL, values | {"pool": pool.pk, "other_pool": other.pk})
        cursor.execute("VACUUM ANALYZE people_contact, people_contactphone, phone_call")
    print(
        f"seeded {contacts:,} contacts and {calls:,} calls in {time.perf_counter() - started:.0f} s"
    )


def measure(label: str, run, inputs: list, iterations: int) -> None:
    times, queries = [], 0
    for value in inputs[:5]:
        run(value)  # warm-up
    for value in inputs[:iterations]:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run(value)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label:<52} {statistics.median(times):>8.2f} {p95:>8.2f} {queries:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="measure without seeding again")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each lookup once")
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL.")
    if not options.reuse or Contact.objects.count() != options.contacts:
        seed(options.contacts, options.calls)
    from django.contrib.auth import get_user_model

    agent = get_user_model().objects.get(username="bench-agent")
    rng = random.Random(7)
    ids = [rng.randint(1, options.contacts) for _ in range(options.iterations + 5)]
    known = list(
        ContactPhone.objects.filter(
            contact_id__in=[i + Contact.objects.order_by("pk").first().pk - 1 for i in ids]
        ).values_list("e164", flat=True)
    )
    rng.shuffle(known)
    prefixes = [number[: rng.choice((8, 9, 10))] for number in known]
    # An area code alone ("+5511"): one number in eighty starts so.
    areas = [number[:5] for number in known]
    print(f"{Contact.objects.count():,} contacts, {Call.objects.count():,} calls")
    print(f"{'lookup':<52} {'median ms':>8} {'p95 ms':>8} {'queries':>7}")
    cases = [
        ("contact of a full number (ringing call)", contact_for_number, known),
        (
            "contacts by the start of a number (50 at most)",
            lambda prefix: list(
                ContactPhone.objects.filter(e164__startswith=prefix).select_related("contact")[:50]
            ),
            prefixes,
        ),
        (
            "calls of a full number (Records), agent's pools",
            lambda number: list(
                Call.objects.visible_to(agent)
                .filter(customer_number=number)
                .select_related("contact")[:200]
            ),
            known,
        ),
        (
            "numbers starting with typed digits (Filters, 50)",
            lambda prefix: numbers_starting_with(agent, prefix, limit=50),
            prefixes,
        ),
        (
            "numbers starting with an area code only (Filters, 50)",
            lambda prefix: numbers_starting_with(agent, prefix, limit=50),
            areas,
        ),
    ]
    for label, run, inputs in cases:
        measure(label, run, inputs, options.iterations)
    if options.explain:
        with connection.cursor() as cursor:
            for sql, value in (
                ("SELECT * FROM people_contactphone WHERE e164 = %s", known[0]),
                (
                    "SELECT * FROM people_contactphone WHERE e164 LIKE %s LIMIT 50",
                    prefixes[0] + "%",
                ),
                (
                    "SELECT DISTINCT customer_number FROM phone_call"
                    " WHERE customer_number LIKE %s ORDER BY 1 LIMIT 50",
                    areas[0] + "%",
                ),
            ):
                cursor.execute("EXPLAIN ANALYZE " + sql, [value])
                print("\n".join(row[0] for row in cursor.fetchall()), "\n")


if __name__ == "__main__":
    main()
