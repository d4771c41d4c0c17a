"""Per pool: whether customers choose the priority, and the name customers see."""

from django.urls import reverse

from tickets.models import Ticket
from tickets.services import portal
from tickets.states import Priority


def _open(client, pool, priority):
    data = {
        "pool": pool.pk,
        "priority": priority,
        "subject": "Printer on fire",
        "description": "It smokes when I print.",
    }
    return client.post(reverse("portal:new"), data)


def test_a_pool_that_does_not_take_the_priority_ignores_a_posted_one(customer_client, pool):
    assert not pool.customers_set_priority  # the default
    assert _open(customer_client, pool, Priority.URGENT).status_code == 302
    assert Ticket.objects.get().priority == Priority.NORMAL


def test_a_pool_that_takes_it_keeps_the_customers_priority(customer_client, pool, other_pool):
    pool.customers_set_priority = True
    pool.save()
    _open(customer_client, pool, Priority.HIGH)
    _open(customer_client, other_pool, Priority.HIGH)
    by_pool = dict(Ticket.objects.values_list("pool_id", "priority"))
    assert by_pool == {pool.pk: Priority.HIGH, other_pool.pk: Priority.NORMAL}


def test_the_form_marks_the_pools_that_take_it(customer_client, pool, other_pool):
    pool.customers_set_priority = True
    pool.save()
    page = customer_client.get(reverse("portal:new")).content.decode()
    marked = page.split("data-takes-priority")
    assert len(marked) == 2  # one option only
    assert f'value="{pool.pk}"' in marked[0].rsplit("<option", 1)[1]


def test_customers_see_the_customer_facing_name(customer_client, customer, pool):
    pool.name = "L2 billing backoffice"
    pool.customer_name = "Billing"
    pool.save()
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Invoice", description="x", pool=pool
    )
    form = customer_client.get(reverse("portal:new")).content.decode()
    listing = customer_client.get(reverse("portal:home")).content.decode()
    detail = customer_client.get(reverse("portal:detail", args=[ticket.number])).content.decode()
    for page in (form, listing, detail):
        assert "Billing" in page
        assert "backoffice" not in page


def test_a_service_is_offered_only_in_its_departments(customer_client, pool, other_pool):
    from tests.factories import TopicFactory

    billing = TopicFactory(name="Invoices")
    billing.pools.add(pool)
    everywhere = TopicFactory(name="Other")
    page = customer_client.get(reverse("portal:new")).content.decode()
    topics = page.split('name="topic"')[1].split("</select>")[0]
    option = topics.split(f'value="{billing.pk}"')[1].split(">")[0]
    assert f'data-pools="{pool.pk}"' in option
    assert "data-pools" not in topics.split(f'value="{everywhere.pk}"')[1].split(">")[0]

    def open_with(department, topic):
        data = {"pool": department.pk, "topic": topic.pk, "subject": "x", "description": "y"}
        return customer_client.post(reverse("portal:new"), data)

    refused = open_with(other_pool, billing)
    assert refused.status_code == 200
    assert "This service is not offered by the chosen department." in refused.content.decode()
    assert not Ticket.objects.exists()
    assert open_with(pool, billing).status_code == 302
    assert open_with(other_pool, everywhere).status_code == 302
    assert Ticket.objects.count() == 2
