"""A hand-built month of tickets in Warsaw, every one made through the real services at
frozen times, so each measure's exact value can be worked out by hand (see the tests)."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from people.models import Department
from reports.measures import Period
from reports.models import ReportEvent, TicketFact
from sla.models import Deadline, SlaPolicy, Target
from sla.services import record_consultation_answer, start_consultation
from surveys.models import Answer, Question, Questionnaire, Response
from tests.factories import AgentFactory, ContactFactory, PoolFactory, TicketFactory
from tests.sla.conftest import make_calendar
from tickets.services import (
    add_customer_message,
    add_reply,
    change_status,
    create_ticket,
    merge_tickets,
)
from tickets.states import Channel, Priority, Status

WARSAW = ZoneInfo("Europe/Warsaw")
PERIOD = Period(date(2026, 10, 19), date(2026, 11, 15))


@pytest.fixture(autouse=True)
def _eager_tasks(eager_tasks):
    """A new ticket's facts are a task's (``refresh_facts_task``): run in-process after
    commit, as a worker would."""


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=WARSAW)


@pytest.fixture
def month(db, agent, supervisor, pool, customer, django_capture_on_commit_callbacks):
    """Tickets A to G of the period 2026-10-19 to 2026-11-15 (Warsaw, Mon-Fri 9-17)."""
    calendar = make_calendar("Warsaw", "Europe/Warsaw", country="PL", hours=((9, 0, 17, 0),))
    SlaPolicy.objects.create(
        name="Standard", calendar=calendar, first_response_minutes=120,
        resolution_minutes=16 * 60,
    )  # fmt: skip
    legal = Department.objects.create(
        name="Legal", email="legal@acme.test", response_time=timedelta(hours=1)
    )
    tickets = {}

    def step(when, call, *args, **kwargs):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return call(*args, **kwargs)

    def new(name, when, **extra):
        tickets[name] = step(
            when, create_ticket, subject=name, pool=pool, requester=customer, actor=agent, **extra
        )
        return tickets[name]

    def reply(name, when):
        step(when, add_reply, tickets[name], author=agent, body="Answer")

    def status(name, when, to):
        tickets[name].refresh_from_db()
        step(when, change_status, tickets[name], to=to, actor=agent)

    # A: across the end of summer time (25 Oct): Fri 16:00 CEST -> Mon 10:00 CET is 67 hours.
    new("A", at("2026-10-23", "16:00"))
    reply("A", at("2026-10-26", "10:00"))
    status("A", at("2026-10-26", "12:00"), Status.RESOLVED)
    # C: solved, the customer writes again the next morning (reopen), solved again.
    new("C", at("2026-11-02", "09:00"))
    reply("C", at("2026-11-02", "10:00"))
    status("C", at("2026-11-02", "11:00"), Status.RESOLVED)
    tickets["C"].refresh_from_db()
    step(at("2026-11-03", "09:30"), add_customer_message, tickets["C"], contact=customer,
         body_text="It broke again")  # fmt: skip
    status("C", at("2026-11-03", "10:00"), Status.RESOLVED)
    # E: a consultation due in one business hour, answered after two.
    new("E", at("2026-11-04", "09:00"))
    reply("E", at("2026-11-04", "09:30"))
    tickets["E"].refresh_from_db()
    consultation = step(at("2026-11-04", "10:00"), start_consultation, tickets["E"],
                        department=legal, question="May we?", actor=agent)  # fmt: skip
    step(at("2026-11-04", "12:00"), record_consultation_answer, consultation, contact=None,
         body_text="Yes")  # fmt: skip
    status("E", at("2026-11-04", "13:00"), Status.RESOLVED)
    # F: first reply after 5 business hours (2 allowed): late.
    new("F", at("2026-11-05", "09:00"))
    reply("F", at("2026-11-05", "14:00"))
    status("F", at("2026-11-05", "15:00"), Status.RESOLVED)
    # B: across Independence Day (Wed 11 Nov, a public holiday in Poland).
    new("D", at("2026-11-10", "09:00"))
    new("B", at("2026-11-10", "16:00"))
    # D: merged into B: received, never solved.
    step(at("2026-11-10", "17:00"), merge_tickets, tickets["D"], into=tickets["B"], actor=agent)
    reply("B", at("2026-11-12", "10:00"))
    status("B", at("2026-11-12", "11:00"), Status.RESOLVED)
    # G: opened on the portal, still open at the end of the period, never answered.
    new("G", at("2026-11-13", "09:00"), channel=Channel.PORTAL)
    # Satisfaction: ratings 5 and 3; scores 10, 9 and 3; the operator rates 4 (the reports
    # follow the answers once they are committed).
    with django_capture_on_commit_callbacks(execute=True):
        survey = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
        rating = Question.objects.create(questionnaire=survey, text="Rate", kind="rating")
        score = Question.objects.create(questionnaire=survey, text="Recommend?", kind="score")
        form = Questionnaire.objects.create(name="Op", kind=Questionnaire.Kind.OPERATOR_RATING)
        operator = Question.objects.create(questionnaire=form, text="Service", kind="rating")
        for name, stars, points in (("A", 5, 10), ("C", 3, 9), ("E", None, 3)):
            response = Response.objects.create(
                questionnaire=survey, kind=survey.kind, ticket=tickets[name], agent=agent,
                pool=pool, created_at=at("2026-11-06", "12:00"),
            )  # fmt: skip
            if stars:
                Answer.objects.create(response=response, question=rating, number=stars)
            Answer.objects.create(response=response, question=score, number=points)
        response = Response.objects.create(
            questionnaire=form, kind=form.kind, ticket=tickets["F"], agent=agent, pool=pool,
            created_at=at("2026-11-05", "15:00"),
        )  # fmt: skip
        Answer.objects.create(response=response, question=operator, number=4)
    for ticket in tickets.values():
        ticket.refresh_from_db()
    with time_machine.travel(at("2026-11-16", "08:00"), tick=False), timezone.override(WARSAW):
        yield tickets


# A randomised month (March 2026, UTC) of tickets, facts, events, deadlines and answers.
RANDOM_START = datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))
RANDOM_PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31))


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
        created = RANDOM_START + timedelta(minutes=rng.randrange(45 * 24 * 60)) - timedelta(days=7)
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
