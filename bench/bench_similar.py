"""Benchmark the ticket page's similar-tickets panel (knowledge.similar) on PostgreSQL.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres hd_kb_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_kb_bench \\
        .venv/bin/python bench/bench_similar.py [--tickets 100000] [--iterations 20] [--reuse]

Seeds the workspace benchmark's data set and the search benchmark's documents (real
subjects and bodies through ``tickets.search.tokens``, plus Zipf-drawn words), 40 canned
responses and 300 articles (each with three versions); then prints median and p95 ms and
SQL queries of the panel's fragment for an agent (three pools) and a supervisor (all), and
of ``suggestions_for`` on its own. The query count is the same at any size.
"""

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.bench_search import build_documents  # noqa: E402
from bench.bench_workspace import arguments, measure, page, seed  # noqa: E402
from knowledge import services  # noqa: E402
from knowledge.models import Article  # noqa: E402
from knowledge.similar import suggestions_for  # noqa: E402
from tickets.models import CannedResponse, Ticket, TicketSearch  # noqa: E402
from tickets.search import tokens  # noqa: E402
from tickets.states import Status  # noqa: E402

ARTICLES = 300


def seed_knowledge(rng: random.Random) -> None:
    from bench.bench_workspace import SUBJECTS

    for i in range(40):
        CannedResponse.objects.create(
            title=f"{rng.choice(SUBJECTS)} {i}", body=f"About {rng.choice(SUBJECTS)}."
        )
    for i in range(ARTICLES):
        subject = rng.choice(SUBJECTS)
        article = services.create_article(
            author=None, language="en", title=f"{subject} ({i})", body=subject, publish=True
        )
        for language in ("pl", "pt-br"):
            services.save_version(
                article, language=language, title=subject, body=subject, author=None, publish=True
            )


def main() -> None:
    args = arguments(__doc__ or "", iterations=20)
    call_command("migrate", interactive=False, verbosity=0)
    users = get_user_model().objects
    ready = (
        args.reuse
        and Ticket.objects.count() == args.tickets
        and TicketSearch.objects.count() == args.tickets
        and Article.objects.exists()
    )
    if not ready:
        rng = random.Random(args.seed)
        started = time.perf_counter()
        seed(args.tickets, rng)
        build_documents(rng)
        seed_knowledge(rng)
        print(f"Seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s.")
    tokens("warm the dictionaries", "en")
    agent = users.get(username="bench-agent-00")
    supervisor = users.get(username="bench-supervisor")
    ticket = Ticket.objects.visible_to(agent).exclude(status=Status.RESOLVED).first()
    assert ticket is not None
    solved = Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED]).count()
    print(f"\n{Ticket.objects.count():,} tickets ({solved:,} solved), {ARTICLES} articles")
    url = f"/knowledge/tickets/{ticket.number}/similar/"
    cases = []
    for label, user in (("agent (3 pools)", agent), ("supervisor (all pools)", supervisor)):
        client = Client()
        client.force_login(user)
        cases.append((f"similar panel, {label}", page(client, url)))
    cases.append(("suggestions_for only, agent", lambda: suggestions_for(ticket, agent, "en")))
    print(f"{'case':<46} {'median ms':>9} {'p95 ms':>8} {'SQL ms':>7} {'queries':>7}")
    for label, call in cases:
        measure(label, call, args.iterations, args.explain)


if __name__ == "__main__":
    main()
