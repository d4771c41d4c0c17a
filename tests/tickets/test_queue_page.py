from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import PoolFactory, TicketFactory, TopicFactory
from tickets.models import PoolMembership, Product, Ticket
from tickets.search import catch_up
from tickets.states import Priority, Status


def _numbers(response):
    return [ticket.number for ticket in response.context["tickets"]]


def test_my_tickets_lists_open_tickets_assigned_to_me(agent_client, agent, pool):
    mine = TicketFactory(pool=pool, status=Status.IN_PROGRESS, assignee=agent)
    TicketFactory(pool=pool, status=Status.CLOSED, assignee=agent)
    TicketFactory(pool=pool)
    response = agent_client.get(reverse("tickets:queue"))
    assert _numbers(response) == [mine.number]
    assert response.context["counts"] == {"mine": "1", "waiting": "1"}


def test_waiting_tab_lists_unassigned_tickets_most_urgent_first(agent_client, pool):
    old = TicketFactory(pool=pool, created_at=timezone.now() - timedelta(days=2))
    urgent = TicketFactory(pool=pool, priority=Priority.URGENT)
    response = agent_client.get(reverse("tickets:queue"), {"tab": "waiting"})
    assert _numbers(response) == [urgent.number, old.number]


def test_watched_tab_lists_what_i_watch(agent_client, agent, pool):
    watched = TicketFactory(pool=pool)
    watched.watchers.add(agent)
    TicketFactory(pool=pool)
    response = agent_client.get(reverse("tickets:queue"), {"tab": "watched"})
    assert _numbers(response) == [watched.number]


def test_all_tab_is_for_supervisors_only(agent_client, pool):
    TicketFactory(pool=pool)
    response = agent_client.get(reverse("tickets:queue"), {"tab": "all"})
    assert response.context["tab"] == "mine"


def test_filters_combine(client, supervisor, pool, other_pool):
    client.force_login(supervisor)
    topic = TopicFactory()
    match = TicketFactory(pool=pool, topic=topic, priority=Priority.HIGH, subject="Fatura errada")
    TicketFactory(pool=pool, topic=topic, priority=Priority.LOW, subject="Fatura errada")
    TicketFactory(pool=other_pool, topic=topic, priority=Priority.HIGH, subject="Fatura errada")
    catch_up()  # factories skip the events that index tickets for search
    params = {
        "tab": "all",
        "pool": pool.pk,
        "topic": topic.pk,
        "priority": Priority.HIGH,
        "q": "fatura",
        "status": Status.NEW,
    }
    assert _numbers(client.get(reverse("tickets:queue"), params)) == [match.number]


def test_search_finds_by_number_and_requester_email(client, supervisor, pool):
    client.force_login(supervisor)
    ticket = TicketFactory(pool=pool)
    TicketFactory(pool=pool)
    email = ticket.requester.emails.get().address
    for query in (ticket.number, f"[#{ticket.number}]", email.upper()):
        response = client.get(reverse("tickets:queue"), {"tab": "all", "q": query})
        assert _numbers(response) == [ticket.number], query


def test_date_range_and_sorting(client, supervisor, pool):
    client.force_login(supervisor)
    now = timezone.now()
    older = TicketFactory(pool=pool, created_at=now - timedelta(days=10), subject="B")
    newer = TicketFactory(pool=pool, created_at=now - timedelta(days=1), subject="A")
    TicketFactory(pool=pool, created_at=now - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=20)).isoformat()
    url = reverse("tickets:queue")
    response = client.get(url, {"tab": "all", "created_after": since, "ordering": "subject"})
    assert _numbers(response) == [newer.number, older.number]
    response = client.get(url, {"tab": "all", "created_after": since, "ordering": "-subject"})
    assert _numbers(response) == [older.number, newer.number]


def test_pages_are_bounded_without_counting_everything(client, supervisor, pool, settings):
    settings.QUEUE_PAGE_SIZE = 5
    client.force_login(supervisor)
    for _ in range(7):
        TicketFactory(pool=pool)
    first = client.get(reverse("tickets:queue"), {"tab": "all"})
    second = client.get(reverse("tickets:queue"), {"tab": "all", "page": 2})
    assert (len(first.context["tickets"]), first.context["has_next"]) == (5, True)
    assert (len(second.context["tickets"]), second.context["has_next"]) == (2, False)
    assert not set(_numbers(first)) & set(_numbers(second))


def test_next_ticket_button_opens_the_pulled_ticket(agent_client, agent, pool):
    ticket = TicketFactory(pool=pool)
    response = agent_client.post(reverse("tickets:next"))
    assert response["Location"] == ticket.get_absolute_url()
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_next_ticket_with_nothing_waiting_says_so(agent_client):
    response = agent_client.post(reverse("tickets:next"), follow=True)
    assert "Nothing is waiting in your pools right now." in response.text


def test_column_headers_toggle_the_sort_order(client, supervisor, pool):
    client.force_login(supervisor)
    TicketFactory(pool=pool)
    page = client.get(reverse("tickets:queue"), {"tab": "all", "ordering": "priority"})
    assert "ordering=-priority" in page.text
    assert "sort-asc" in page.text


def test_tab_counts_stop_at_a_limit(agent_client, pool, monkeypatch):
    from tickets.views import queue

    monkeypatch.setattr(queue, "COUNT_LIMIT", 3)
    for _ in range(5):
        TicketFactory(pool=pool)
    response = agent_client.get(reverse("tickets:queue"))
    assert response.context["counts"]["waiting"] == "2+"


def test_waiting_tab_merges_my_pools_in_priority_then_age_order_page_by_page(
    agent_client, agent, pool, other_pool, settings
):
    settings.QUEUE_PAGE_SIZE = 3
    third_pool = PoolFactory()
    PoolMembership.objects.create(pool=other_pool, user=agent, pull_priority=2)
    now = timezone.now()
    expected = []
    for i, (where, priority) in enumerate(
        [(pool, Priority.NORMAL), (other_pool, Priority.URGENT), (pool, Priority.URGENT),
         (other_pool, Priority.NORMAL), (pool, Priority.LOW), (other_pool, Priority.HIGH)]
    ):  # fmt: skip
        ticket = TicketFactory(pool=where, priority=priority, created_at=now - timedelta(hours=i))
        expected.append((-priority, ticket.created_at, ticket.number))
    TicketFactory(pool=third_pool, priority=Priority.URGENT)  # not one of my pools
    expected = [number for *_, number in sorted(expected)]
    url = reverse("tickets:queue")
    first = agent_client.get(url, {"tab": "waiting"})
    second = agent_client.get(url, {"tab": "waiting", "page": 2})
    assert _numbers(first) + _numbers(second) == expected
    assert (first.context["has_next"], second.context["has_next"]) == (True, False)
    only_other = agent_client.get(url, {"tab": "waiting", "pool": other_pool.pk})
    in_other_pool = set(Ticket.objects.filter(pool=other_pool).values_list("number", flat=True))
    assert _numbers(only_other) == [number for number in expected if number in in_other_pool]


def test_rows_show_pool_topic_product_requester_and_technician(agent_client, agent, pool):
    topic = TopicFactory(name="Billing errors")
    product = Product.objects.create(name="Fiber 500")
    ticket = TicketFactory(
        pool=pool, topic=topic, product=product, status=Status.TAKEN, assignee=agent
    )
    response = agent_client.get(reverse("tickets:queue"))
    (row,) = response.context["tickets"]
    assert (row.pool, row.topic, row.product, row.assignee) == (pool, topic, product, agent)
    for text in ("Billing errors · Fiber 500", pool.name, ticket.requester.name):
        assert text in response.text


def test_pool_filter_offers_only_my_pools_and_keeps_the_choice(agent_client, pool, other_pool):
    response = agent_client.get(reverse("tickets:queue"), {"pool": pool.pk})
    select = response.text.split('<select name="pool"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{pool.pk}" selected>{pool.name}</option>' in select
    assert f'<option value="{other_pool.pk}"' not in select
