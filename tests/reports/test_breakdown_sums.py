"""A randomised month: the rows of every breakdown add up to the global figures."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.measures import DIMENSIONS, MEASURES, Period, compute
from reports.models import ReportEvent, TicketFact
from sla.models import Deadline, Target
from surveys.models import Answer, Question, Questionnaire, Response
from tests.factories import AgentFactory, ContactFactory, PoolFactory, TicketFactory
from tickets.models import Ticket
from tickets.states import Priority, Status

UTC = ZoneInfo("UTC")
START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31))
COUNTS = [key for key, measure in MEASURES.items() if measure.condition is not None]


@pytest.fixture
def random_month(db):
    seed = random.randrange(10**6)
    print(f"seed {seed}")  # to replay a failure
    rng = random.Random(seed)
    pools = PoolFactory.create_batch(3)
    agents = [None, *AgentFactory.create_batch(3)]
    contacts = [None, *ContactFactory.create_batch(3)]
    survey = Questionnaire.objects.create(name="S", kind=Questionnaire.Kind.SATISFACTION)
    rating = Question.objects.create(questionnaire=survey, text="R", kind="rating")
    score = Question.objects.create(questionnaire=survey, text="S", kind="score")
    for _ in range(60):
        created = START + timedelta(minutes=rng.randrange(45 * 24 * 60)) - timedelta(days=7)
        ticket = TicketFactory(
            pool=rng.choice(pools), assignee=rng.choice(agents), requester=rng.choice(contacts),
            priority=rng.choice(Priority.values), status=rng.choice(Status.values),
            created_at=created,
        )  # fmt: skip
        answered = created + timedelta(minutes=rng.randrange(1, 5000))
        finished = answered + timedelta(minutes=rng.randrange(1, 5000))
        TicketFact.objects.create(
            ticket=ticket, created_at=created,
            first_response_at=answered if rng.random() < 0.8 else None,
            first_response_seconds=rng.randrange(10**5), first_response_business_seconds=5,
            finished_at=finished if rng.random() < 0.6 else None,
            handling_seconds=rng.randrange(10**6), handling_business_seconds=7,
            late=rng.random() < 0.3, consulted=rng.random() < 0.3,
        )  # fmt: skip
        for _ in range(rng.randrange(3)):
            ReportEvent.objects.create(
                ticket=ticket, kind=rng.choice(ReportEvent.Kind.values), at=finished
            )
        for target in rng.sample(list(Target.values), 2):
            breached = rng.random() < 0.4
            Deadline.objects.create(
                ticket=ticket, pool=ticket.pool, target=target, budget_seconds=60,
                state=rng.choice(Deadline.State.values), met_at=finished,
                breached_at=finished if breached else None,
            )  # fmt: skip
        if rng.random() < 0.5:
            response = Response.objects.create(
                questionnaire=survey, kind=survey.kind, ticket=ticket,
                agent=rng.choice(agents), pool=rng.choice(pools), created_at=finished,
            )  # fmt: skip
            Answer.objects.create(response=response, question=rating, number=rng.randint(1, 5))
            Answer.objects.create(response=response, question=score, number=rng.randint(0, 10))


@pytest.mark.parametrize("dimension", list(DIMENSIONS))
def test_breakdown_rows_add_up_to_the_global_figures(random_month, dimension):
    tickets = Ticket.objects.all()
    keys = [*COUNTS, "first_response_average"]
    total = compute(tickets, {"now": PERIOD}, keys)["now"]
    rows = compute(tickets, {"now": PERIOD}, keys, dimension=dimension)
    assert total["received"] > 0
    for key in COUNTS:
        assert sum(row["now"].get(key) or 0 for row in rows) == total[key], key
    weighted = sum(
        (row["now"].get("first_response_average") or 0) * (row["now"].get("responded") or 0)
        for row in rows
    )
    assert weighted == pytest.approx(total["first_response_average"] * total["responded"])
