from datetime import timedelta

import pytest
from django.utils import timezone

from people.models import Contact, Sector
from phone.models import Call, IntakeDraft, ScriptOption, ScriptRun
from tickets.models import Message, Ticket
from tickets.states import Channel, Priority

STEP = "/phone/intake/{}/"


def step(client, step_name, action="next", **data):
    return client.post(STEP.format(step_name), {"action": action, **data})


def at(client) -> str:
    return client.get("/phone/intake/").url.split("/")[-2]


@pytest.fixture
def unknown_call(pool):
    return Call.objects.create(
        pool=pool, from_number="11 91234-5678", customer_number="+5511912345678"
    )


def start(client, call=None):
    return client.post("/phone/intake/start/", {"call": call.pk} if call else {})


def test_a_step_other_than_the_current_one_redirects_to_it(agent_client):
    start(agent_client)
    response = agent_client.get(STEP.format("first_contact"))
    assert response.status_code == 302 and response.url == STEP.format("origin")
    assert agent_client.get(STEP.format("nonsense")).url == STEP.format("origin")


def test_back_and_cancel(agent_client, agent, unknown_call):
    start(agent_client, unknown_call)
    step(agent_client, "origin", origin="phone")
    assert at(agent_client) == "filters"
    step(agent_client, "filters", "back")
    assert at(agent_client) == "origin"
    response = step(agent_client, "origin", "cancel")
    assert response.url == "/phone/calls/"
    assert not IntakeDraft.objects.filter(agent=agent).exists()


def test_filters_list_matching_numbers_all_ticked_and_an_untick_narrows_the_records(
    agent_client, pool
):
    for number in ("+5511912345678", "+5511912340000", "+5521912345678"):
        Call.objects.create(pool=pool, from_number=number, customer_number=number)
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    step(agent_client, "filters", "list", mode="phone", digits="(11) 91234", quantity=10)
    page = agent_client.get(STEP.format("filters"))
    form = page.context["form"]
    assert page.context["listed"] == ["+5511912340000", "+5511912345678"]
    assert form["numbers"].value() == ["+5511912340000", "+5511912345678"]
    step(
        agent_client,
        "filters",
        mode="phone",
        digits="(11) 91234",
        quantity=10,
        numbers=["+5511912345678"],
    )
    page = agent_client.get(STEP.format("records"))
    assert [c.customer_number for c in page.context["calls"]] == ["+5511912345678"]


def test_the_quantity_limits_the_numbers_listed(agent_client, pool):
    for n in range(5):
        Call.objects.create(pool=pool, from_number="x", customer_number=f"+551191234000{n}")
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    step(agent_client, "filters", "list", mode="phone", digits="1191234", quantity=3)
    assert len(agent_client.get(STEP.format("filters")).context["listed"]) == 3


def test_unticking_every_number_is_refused(agent_client, unknown_call):
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    response = step(agent_client, "filters", mode="phone", digits="1191234", quantity=10)
    assert response.status_code == 400
    assert at(agent_client) == "filters"


def test_period_and_date_range_filters(agent_client, pool):
    old = Call.objects.create(pool=pool, from_number="1", customer_number="+5511900000001")
    Call.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=20))
    new = Call.objects.create(pool=pool, from_number="2", customer_number="+5511900000002")
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    step(agent_client, "filters", mode="period", days=7, quantity=50)
    assert list(agent_client.get(STEP.format("records")).context["calls"]) == [new]
    step(agent_client, "records", "back")
    day = (timezone.now() - timedelta(days=20)).date()
    step(
        agent_client,
        "filters",
        mode="range",
        date_from=day.isoformat(),
        date_to=day.isoformat(),
        quantity=50,
    )
    assert list(agent_client.get(STEP.format("records")).context["calls"]) == [old]


def test_a_range_that_ends_before_it_starts_is_refused(agent_client):
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    response = step(
        agent_client,
        "filters",
        mode="range",
        date_from="2026-02-10",
        date_to="2026-02-01",
        quantity=5,
    )
    assert response.status_code == 400


def test_no_calls_listed(agent_client):
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    step(agent_client, "filters", mode="period", days=1, quantity=5)
    page = agent_client.get(STEP.format("records"))
    assert "No calls listed" in page.content.decode()


def test_records_mark_registered_and_unidentified_callers(agent_client, pool, caller, unknown_call):
    Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    start(agent_client)
    step(agent_client, "origin", origin="phone")
    step(agent_client, "filters", mode="period", days=1, quantity=5)
    html = agent_client.get(STEP.format("records")).content.decode()
    assert "Unidentified customer" in html and "Registered contact" in html and caller.name in html


def test_a_contact_needs_one_way_to_reach_them(agent_client, unknown_call):
    start(agent_client, unknown_call)
    for name in ("origin", "filters", "records"):
        step(
            agent_client,
            name,
            origin="phone",
            mode="phone",
            digits=unknown_call.customer_number,
            quantity=50,
            numbers=[unknown_call.customer_number],
            call=unknown_call.pk,
        )
    assert at(agent_client) == "customer"
    response = step(agent_client, "customer", "add", name="Rui Reis")
    assert response.status_code == 400
    assert "at least one of role, phone, mobile, fax or email" in response.content.decode()
    assert not Contact.objects.filter(name="Rui Reis").exists()
    response = step(agent_client, "customer", "add", name="Rui Reis", role="Buyer")
    assert response.status_code == 302
    assert Contact.objects.get(name="Rui Reis").role == "Buyer"


def walk_to_customer(client, call):
    start(client, call)
    step(client, "origin", origin="phone")
    step(
        client,
        "filters",
        mode="phone",
        digits=call.customer_number,
        quantity=50,
        numbers=[call.customer_number],
    )
    step(client, "records", call=call.pk)
    assert at(client) == "customer"


def test_the_whole_wizard_opens_a_phone_ticket_with_the_script_report(
    agent_client, agent, pool, organization, plan, branching_script, unknown_call
):
    sector = Sector.objects.create(name="Purchasing")
    walk_to_customer(agent_client, unknown_call)
    step(
        agent_client,
        "customer",
        "add",
        name="Rui Reis",
        organization=organization.pk,
        sector=sector.pk,
        phone=unknown_call.from_number,
        email="rui@padaria.test",
    )
    rui = Contact.objects.get(name="Rui Reis")
    assert rui.sector == sector and rui.phones.get().e164 == unknown_call.customer_number
    step(agent_client, "customer")
    page = agent_client.get(STEP.format("service"))
    assert page.context["pending"] == []
    html = page.content.decode()
    assert "Fiber 500" in html and "Loja Centro" in html and "s3cr3t-pq" in html
    step(agent_client, "service", plan=plan.pk, script=branching_script.pk)
    light = branching_script.first_step
    yes = ScriptOption.objects.get(step=light, label="Yes")
    no = ScriptOption.objects.get(step=light, label="No")
    step(agent_client, "script", "answer", option=yes.pk)
    step(agent_client, "script", "previous")
    assert agent_client.get(STEP.format("script")).context["chosen"] == yes.pk
    step(agent_client, "script", "answer", option=no.pk)
    cable_yes = ScriptOption.objects.get(step__title="Cable", label="Yes")
    step(agent_client, "script", "answer", option=cable_yes.pk)
    assert at(agent_client) == "report"
    lines = agent_client.get(STEP.format("report")).context["lines"]
    assert lines == [("Is the modem light on?", "No"), ("Is the power cable plugged in?", "Yes")]
    step(agent_client, "report")
    response = step(
        agent_client,
        "first_contact",
        "create",
        subject="Internet down",
        description="No internet at the shop since morning.",
        priority=Priority.HIGH,
        pool=pool.pk,
        product=plan.product.pk,
    )
    ticket = Ticket.objects.get()
    assert response.url == f"/tickets/{ticket.number}/"
    assert ticket.channel == Channel.PHONE and ticket.requester == rui
    assert ticket.priority == Priority.HIGH and ticket.product == plan.product
    note = ticket.messages.get(kind=Message.Kind.NOTE)
    assert "Is the power cable plugged in?" in note.body_text and note.author_user == agent
    unknown_call.refresh_from_db()
    assert unknown_call.ticket == ticket and unknown_call.contact == rui
    assert ScriptRun.objects.get().ticket == ticket
    assert not IntakeDraft.objects.filter(agent=agent).exists()


def test_a_second_call_warns_of_the_pending_tickets(agent_client, pool, caller):
    from tests.factories import TicketFactory

    TicketFactory(pool=pool, requester=caller, subject="Slow internet")
    call = Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    walk_to_customer(agent_client, call)
    step(agent_client, "customer")
    html = agent_client.get(STEP.format("service")).content.decode()
    assert "There is 1 pending ticket for this customer. Please check." in html
    assert "Slow internet" in html


def test_ending_the_script_at_once_makes_an_empty_report_and_no_note(
    agent_client, pool, caller, plan, branching_script
):
    call = Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    walk_to_customer(agent_client, call)
    step(agent_client, "customer")
    step(agent_client, "service", plan=plan.pk, script=branching_script.pk)
    step(agent_client, "script", "end")
    assert at(agent_client) == "report"
    assert "No question was answered." in agent_client.get(STEP.format("report")).content.decode()
    step(agent_client, "report")
    step(
        agent_client,
        "first_contact",
        "create",
        subject="Call",
        description="Question",
        priority=20,
        pool=pool.pk,
    )
    assert not Message.objects.filter(kind=Message.Kind.NOTE).exists()
    assert Ticket.objects.get().channel == Channel.PHONE


def test_a_contact_with_a_large_id_can_be_chosen(agent_client, organization):
    """Ids grow for ever on PostgreSQL; choosing one must not depend on its size."""
    from tests.factories import ContactFactory

    far = ContactFactory(pk=987_654, name="Far Away", organization=organization)
    start(agent_client)
    step(agent_client, "origin", origin="walk_in")
    step(agent_client, "customer", "choose", contact=far.pk)
    assert agent_client.get(STEP.format("customer")).context["contact"] == far


def test_switching_to_another_contact_of_the_organisation(agent_client, pool, caller, organization):
    from tests.factories import ContactFactory

    boss = ContactFactory(name="Bia Boss", organization=organization)
    call = Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    walk_to_customer(agent_client, call)
    page = agent_client.get(STEP.format("customer"))
    assert list(page.context["colleagues"]) == [boss]
    step(agent_client, "customer", "choose", contact=boss.pk)
    assert agent_client.get(STEP.format("customer")).context["contact"] == boss


def test_a_walk_in_skips_the_call_search(agent_client, caller):
    start(agent_client)
    step(agent_client, "origin", origin="walk_in")
    assert at(agent_client) == "customer"
    page = agent_client.get(STEP.format("customer") + "?q=Paula")
    assert caller in page.context["found"]
    page = agent_client.get(STEP.format("customer") + "?q=(11) 98765")
    assert caller in page.context["found"]
    step(agent_client, "customer", "choose", contact=caller.pk)
    step(agent_client, "customer")
    assert at(agent_client) == "service"


def test_next_without_a_customer_stays(agent_client):
    start(agent_client)
    step(agent_client, "origin", origin="walk_in")
    step(agent_client, "customer")
    assert at(agent_client) == "customer"


def test_the_wizard_pages_keep_a_fixed_query_count(
    agent_client, pool, caller, plan, branching_script, django_assert_max_num_queries
):
    call = Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    walk_to_customer(agent_client, call)
    with django_assert_max_num_queries(20):
        agent_client.get(STEP.format("customer"))
    step(agent_client, "customer")
    with django_assert_max_num_queries(25):
        agent_client.get(STEP.format("service"))


def test_a_walk_in_opens_a_walk_in_ticket_without_a_call(agent_client, pool, caller, unknown_call):
    start(agent_client, unknown_call)
    step(agent_client, "origin", origin="walk_in")
    step(agent_client, "customer", "choose", contact=caller.pk)
    step(agent_client, "customer")
    step(agent_client, "service")
    step(agent_client, "script")
    step(agent_client, "report")
    step(
        agent_client,
        "first_contact",
        "create",
        subject="At the desk",
        description="Came in",
        priority=20,
        pool=pool.pk,
    )
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.WALK_IN
    unknown_call.refresh_from_db()
    assert unknown_call.ticket is None
