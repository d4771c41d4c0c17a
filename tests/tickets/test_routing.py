from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people.models import Skill
from tests.conftest import _agent
from tests.factories import (
    AgentFactory,
    MembershipFactory,
    TicketFactory,
    TopicFactory,
    open_ticket,
)
from tickets.models import ActivityLog, PoolMembership, Product, Ticket
from tickets.states import Priority, Status

Action = ActivityLog.Action


def _ticket(pool, subject="Help", **fields):
    return TicketFactory(pool=pool, subject=subject, **fields)


def _skill(agent, keywords, name=None):
    skill = Skill.objects.create(name=name or f"{agent.username} {keywords}", keywords=keywords)
    agent.agent_profile.skills.add(skill)
    return skill


def _detail(ticket, action):
    return " ".join(ticket.activity.filter(action=action).values_list("detail", flat=True))


# Classification


def test_portuguese_accented_text_matches_unaccented_keywords(pool):
    topic = TopicFactory(name="Billing", keywords="faturacao, cobranca")
    ticket = open_ticket(pool, text="Problema na Faturação e na COBRANÇA do mês")
    assert ticket.topic == topic
    ticket.refresh_from_db()
    assert ticket.topic == topic
    assert "faturacao" in _detail(ticket, Action.CLASSIFIED)
    assert "cobranca" in _detail(ticket, Action.CLASSIFIED)


def test_unaccented_text_matches_accented_polish_keywords(pool):
    topic = TopicFactory(name="Płatności", keywords="Płatność, Łódź")
    ticket = open_ticket(pool, text="platnosc nie doszla, oddzial lodz")
    assert ticket.topic == topic


@pytest.mark.parametrize("word", ["faktury", "fakturze", "fakturami", "FAKTUR", "Fakturę"])
def test_a_polish_stem_matches_its_inflected_forms(pool, word):
    topic = TopicFactory(keywords="faktur")
    ticket = open_ticket(pool, text=f"Pytanie o {word} z marca")
    assert ticket.topic == topic


@pytest.mark.parametrize(
    ("keyword", "text"),
    [
        ("fatura", "o faturamento caiu"),  # five letters on is another word
        ("conta", "ele desconta tudo"),  # never inside a word
        ("nf", "a nfe chegou"),  # short keywords match exactly
        ("vpn", "vpns"),
    ],
)
def test_a_keyword_does_not_match_other_words(pool, keyword, text):
    TopicFactory(keywords=keyword)
    ticket = open_ticket(pool, text=text)
    assert ticket.topic is None
    assert "No topic keywords matched." in _detail(ticket, Action.CLASSIFIED)


def test_a_portuguese_plural_matches_the_singular_keyword(pool):
    topic = TopicFactory(keywords="fatura")
    ticket = open_ticket(pool, text="Minhas faturas estão erradas")
    assert ticket.topic == topic


def test_matching_is_case_insensitive(pool):
    topic = TopicFactory(keywords="VPN, Password Reset")
    ticket = open_ticket(pool, text="my vpn needs a PASSWORD RESET")
    assert ticket.topic == topic


def test_a_phrase_matches_its_words_next_to_each_other_only(pool):
    topic = TopicFactory(keywords="nota fiscal")
    far_apart = open_ticket(pool, text="a nota do produto fiscal")
    assert far_apart.topic is None
    together = open_ticket(pool, text="Cadê a Nota-Fiscal?")
    assert together.topic == topic


def test_the_subject_is_searched_too(pool):
    topic = TopicFactory(keywords="boleto")
    ticket = open_ticket(pool, subject="Boleto vencido", text="Olá, segue em anexo.")
    assert ticket.topic == topic


def test_the_topic_with_most_keywords_wins_and_a_tie_goes_to_the_first_by_name(pool):
    TopicFactory(name="Access", keywords="senha")
    billing = TopicFactory(name="Billing", keywords="senha, boleto")
    ticket = open_ticket(pool, text="senha do boleto")
    assert ticket.topic == billing

    TopicFactory(name="Zeta", keywords="impressora")
    TopicFactory(name="Printers", keywords="impressora")
    ticket = open_ticket(pool, text="impressora quebrada")
    assert ticket.topic.name == "Printers"


def test_inactive_topics_are_not_used(pool):
    TopicFactory(keywords="boleto", active=False)
    ticket = open_ticket(pool, text="boleto")
    assert ticket.topic is None


def test_topic_sets_priority(pool):
    TopicFactory(keywords="fora do ar", default_priority=Priority.URGENT)
    ticket = open_ticket(pool, text="O sistema está fora do ar!")
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.activity.filter(action=Action.PRIORITY, after=str(Priority.URGENT)).exists()


def test_topic_never_lowers_a_priority(pool):
    TopicFactory(keywords="newsletter", default_priority=Priority.LOW)
    ticket = open_ticket(pool, priority=Priority.HIGH, text="newsletter")
    ticket.refresh_from_db()
    assert ticket.topic is not None
    assert ticket.priority == Priority.HIGH


def test_product_is_classified_beside_the_topic(pool):
    product = Product.objects.create(name="Router X", keywords="router x, roteador")
    ticket = open_ticket(pool, text="Meu roteador não liga")
    ticket.refresh_from_db()
    assert ticket.product == product
    assert "roteador" in _detail(ticket, Action.CLASSIFIED)
    assert ticket.activity.filter(action=Action.PRODUCT, after="Router X").count() == 1


def test_a_topic_and_product_already_set_are_kept(pool):
    chosen = TopicFactory(name="Chosen", keywords="nothing here")
    TopicFactory(name="Other", keywords="boleto")
    product = Product.objects.create(name="Chosen product")
    ticket = open_ticket(pool, topic=chosen, product=product, text="boleto")
    ticket.refresh_from_db()
    assert (ticket.topic, ticket.product) == (chosen, product)
    # The choice is recorded as made (by whoever opened it), never replaced by the keywords.
    logged = set(
        ticket.activity.filter(action__in=[Action.TOPIC, Action.PRODUCT]).values_list(
            "after", flat=True
        )
    )
    assert logged <= {str(chosen), str(product)}


def test_classification_logs_each_change_once(pool):
    TopicFactory(keywords="boleto", default_priority=Priority.HIGH)
    Product.objects.create(name="App", keywords="aplicativo")
    ticket = open_ticket(pool, text="boleto no aplicativo")
    opened = [Action.CREATED, Action.CUSTOMER_MESSAGE, Action.ROUTED]
    actions = sorted(ticket.activity.exclude(action__in=opened).values_list("action", flat=True))
    assert actions == sorted([Action.TOPIC, Action.PRODUCT, Action.PRIORITY, Action.CLASSIFIED])


# Routing


def test_best_skill_match_wins(pool):
    one = _agent("one", pools=[pool])
    two = _agent("two", pools=[pool])
    _skill(one, "impressora")
    _skill(two, "impressora, toner")
    ticket = open_ticket(pool, text="A impressora está sem toner")
    assert ticket.assignee == two
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (two, Status.TAKEN)
    assert ticket.activity.filter(action=Action.ASSIGNED, after="Two").exists()


@pytest.mark.parametrize(
    ("keywords", "text"),
    [
        ("cobranca", "Erro na COBRANÇA"),
        ("cobrança", "erro na cobranca"),
        ("platnosc", "Płatność odrzucona"),
        ("Płatność", "PLATNOSC odrzucona"),
        ("faturação", "Faturac\u0327a\u0303o"),  # decomposed accents, as some clients send
    ],
)
def test_skill_keywords_match_with_or_without_accents(pool, keywords, text):
    specialist = _agent("specialist", pools=[pool])
    _skill(specialist, keywords)
    ticket = open_ticket(pool, text=text)
    assert ticket.assignee == specialist
    assert (ticket.assignee, ticket.status) == (specialist, Status.TAKEN)


def test_a_keyword_found_twice_counts_once(pool):
    repeated = _agent("repeated", pools=[pool])
    broad = _agent("broad", pools=[pool])
    _skill(repeated, "impressora")
    _skill(broad, "toner, papel")
    ticket = open_ticket(pool, text="impressora impressora impressora: toner e papel")
    winner = ticket.assignee
    assert winner == broad


def test_least_loaded_wins_a_tie(pool):
    busy = _agent("busy", pools=[pool])
    idle = _agent("idle", pools=[pool])
    for agent in (busy, idle):
        _skill(agent, "vpn")
    TicketFactory.create_batch(2, pool=pool, assignee=busy, status=Status.IN_PROGRESS)
    # Closed and waiting work is not load.
    TicketFactory.create_batch(3, pool=pool, assignee=idle, status=Status.CLOSED)
    TicketFactory(pool=pool, assignee=idle, status=Status.TAKEN)
    ticket = open_ticket(pool, text="vpn")
    assert ticket.assignee == idle
    assert "1 open" in _detail(ticket, Action.ROUTED)
    assert "2 open" in _detail(ticket, Action.ROUTED)


def test_an_equal_score_and_load_goes_to_the_lowest_user_id(pool):
    first = _agent("first", pools=[pool])
    second = _agent("second", pools=[pool])
    for agent in (second, first):
        _skill(agent, "vpn")
    assert open_ticket(pool, text="vpn").assignee == first


def test_absent_agents_match_goes_to_the_substitute(pool, make_absence):
    specialist = _agent("specialist", pools=[pool])
    cover = _agent("cover", pools=[pool])
    _skill(specialist, "vpn")
    make_absence(specialist, substitute=cover)
    ticket = open_ticket(pool, text="vpn down")
    assert ticket.assignee == cover
    ticket.refresh_from_db()
    assert ticket.assignee == cover
    assert "Specialist is away; Cover covers." in _detail(ticket, Action.ROUTED)


def test_a_substitute_gets_no_match_from_an_absence_that_is_over(pool, make_absence):
    specialist = _agent("specialist", pools=[pool])
    cover = _agent("cover", pools=[pool])
    _skill(specialist, "vpn")
    now = timezone.now()
    make_absence(
        specialist,
        substitute=cover,
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(days=1),
    )
    assert open_ticket(pool, text="vpn").assignee == specialist


@pytest.mark.parametrize("substitute", ["none", "absent", "outside the pool"])
def test_absent_agent_without_a_present_substitute_leaves_the_ticket_waiting(
    pool, other_pool, make_absence, substitute
):
    specialist = _agent("specialist", pools=[pool])
    cover = None
    if substitute == "absent":
        cover = _agent("cover", pools=[pool])
        make_absence(cover)
    elif substitute == "outside the pool":
        cover = _agent("cover", pools=[other_pool])
    _skill(specialist, "vpn")
    make_absence(specialist, substitute=cover)
    ticket = open_ticket(pool, text="vpn")
    assert ticket.assignee is None
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, Status.NEW)
    detail = _detail(ticket, Action.ROUTED)
    assert "Specialist matched “vpn” but is away with no present substitute." in detail
    assert "waiting in Billing" in detail


def test_agent_outside_the_pool_never_gets_it(pool, other_pool):
    outsider = _agent("outsider", pools=[other_pool])
    _skill(outsider, "vpn")
    ticket = open_ticket(pool, text="vpn")
    assert ticket.assignee is None
    assert "No specialist matched; waiting in Billing." in _detail(ticket, Action.ROUTED)


def test_an_inactive_agent_never_gets_it(pool):
    gone = _agent("gone", pools=[pool])
    _skill(gone, "vpn")
    gone.is_active = False
    gone.save()
    assert open_ticket(pool, text="vpn").assignee is None


def test_no_match_waits_in_the_pool(pool, agent):
    _skill(agent, "vpn")
    ticket = open_ticket(pool, text="Bom dia, tudo bem?")
    assert ticket.assignee is None
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, Status.NEW)
    assert _detail(ticket, Action.ROUTED) == "No specialist matched; waiting in Billing."


def test_the_activity_log_says_why(pool):
    winner = _agent("winner", pools=[pool])
    runner_up = _agent("runnerup", pools=[pool])
    _skill(winner, "płatność, faktur")
    _skill(runner_up, "faktur")
    ticket = open_ticket(pool, text="Płatność za fakturę")
    detail = _detail(ticket, Action.ROUTED)
    assert "Routed to Winner: matched “platnosc”, “faktur” (score 2, 0 open)." in detail
    assert "Also matched: Runnerup, “faktur” (score 1, 0 open)." in detail
    actions = list(ticket.activity.values_list("action", flat=True))
    assert actions.index(Action.ROUTED) < actions.index(Action.ASSIGNED)


def test_routing_classifies_first(pool):
    topic = TopicFactory(keywords="vpn", default_priority=Priority.HIGH)
    ticket = open_ticket(pool, text="vpn")
    ticket.refresh_from_db()
    assert (ticket.topic, ticket.priority) == (topic, Priority.HIGH)


def _crowd(pool, size, make_absence):
    """``size`` matching agents, a third of them away with a present substitute."""
    skill = Skill.objects.create(name=f"VPN {size}", keywords="vpn, tunnel, firewall")
    agents = [m.user for m in MembershipFactory.create_batch(size, pool=pool)]
    for index, user in enumerate(agents):
        user.agent_profile.skills.add(skill)
        if index % 3 == 1:
            make_absence(user, substitute=agents[index - 1])
        TicketFactory(pool=pool, assignee=user, status=Status.IN_PROGRESS)
    return agents


# The whole intake of a new ticket that is routed: savepoints, the contact's ticket number,
# topics, products and the pool's skills (1), the ticket, its message, the activity rows,
# the matching agents (1), absences (1), loads (1), the winner's UPDATE.
ROUTE_QUERIES = 15


@pytest.mark.parametrize("size", [3, 30])
def test_routing_query_count_does_not_grow_with_the_pool(
    pool, make_absence, django_assert_max_num_queries, size
):
    TopicFactory(keywords="vpn", default_priority=Priority.HIGH)
    Product.objects.create(name="Gateway", keywords="gateway")
    _crowd(pool, size, make_absence)
    PoolMembership.objects.create(pool=pool, user=AgentFactory())  # no matching skill
    with django_assert_max_num_queries(ROUTE_QUERIES):
        assert open_ticket(pool, text="vpn tunnel via gateway", language="en").assignee


def test_routing_costs_the_same_for_3_and_30_agents(pool, other_pool, make_absence):
    counts = []
    for size, target in ((3, pool), (30, other_pool)):
        _crowd(target, size, make_absence)
        with CaptureQueriesContext(connection) as queries:
            open_ticket(target, text="vpn tunnel", language="en")
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_ticket_no_skill_matches_never_loads_the_pool_agents(pool):
    for _ in range(3):
        PoolMembership.objects.create(pool=pool, user=AgentFactory())  # present, no skills
    with CaptureQueriesContext(connection) as queries:
        ticket = open_ticket(pool, "Printer on fire", text="nothing anyone knows", language="en")
    assert ticket.assignee is None
    assert not any('"auth_user"."password"' in query["sql"] for query in queries)
    routed = ticket.activity.get(action=ActivityLog.Action.ROUTED)
    assert "No specialist matched" in routed.detail


def test_an_inactive_agent_skills_are_not_read_for_routing(pool):
    gone = AgentFactory(is_active=False)
    PoolMembership.objects.create(pool=pool, user=gone)
    _skill(gone, "printer")
    assert open_ticket(pool, text="printer on fire").assignee is None


def test_a_topic_added_between_two_tickets_is_used_for_the_second(pool):
    first = open_ticket(pool, subject="VPN down", text="")
    assert first.topic is None
    topic = TopicFactory(keywords="vpn")
    second = open_ticket(pool, subject="VPN down", text="")
    assert second.topic == topic


def test_route_tickets_costs_the_same_queries_for_one_and_forty_tickets(
    pool, make_absence, django_capture_on_commit_callbacks
):
    from tickets.services.routing import Words, route_tickets, routing_catalog

    agents = _crowd(pool, 6, make_absence)
    counts, winners = [], []
    for size in (1, 40):
        tickets = [
            _ticket(pool, subject="vpn tunnel" if n % 2 == 0 else "Printer") for n in range(size)
        ]
        catalog = routing_catalog(pool.pk)
        routes = [(ticket, Words(ticket.subject, "en"), catalog) for ticket in tickets]
        with CaptureQueriesContext(connection) as queries:
            winners.append(route_tickets(routes))
        counts.append(len(queries))
    # Pool members, absences, loads, the UPDATE of the winners, the activity INSERT.
    assert counts[0] == counts[1] <= 5
    forty = winners[1]
    assert sum(winner is not None for winner in forty) == 20
    assert {winner.pk for winner in forty if winner} <= {agent.pk for agent in agents}
    taken = Ticket.objects.filter(status=Status.TAKEN, assignee__isnull=False)
    assert taken.count() == 21
    # A ticket routed earlier in the list counts in its agent's load: the work is spread.
    assert len({winner.pk for winner in forty if winner}) > 1
