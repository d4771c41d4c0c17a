"""Load demo pools, agents, customers and a few hundred tickets; prints the demo logins."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from people.features import Feature
from people.models import Absence, AccessProfile, Organization, Role, Sector, Skill
from people.roles import is_junior
from people.services import create_agent, create_customer_account, find_or_create_contacts
from people.services_profiles import save_access_profile
from tickets import services
from tickets.models import CannedResponse, Pool, PoolMembership, Product, Ticket, Topic
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.states import HELD_STATUSES, Channel, Status

DEMO_USERS = [
    # username, password, role, junior, first name, last name
    ("agent", "agent", Role.AGENT, False, "Ana", "Souza"),
    ("junior", "junior", Role.AGENT, True, "Jan", "Kowalski"),
    ("supervisor", "supervisor", Role.SUPERVISOR, False, "Beatriz", "Lima"),
    ("admin", "admin", Role.ADMIN, False, "Adam", "Nowak"),
]

POOLS = ["Billing", "Technical support", "Sales"]
TOPICS = [
    ("Invoices", 20, "invoice, fatura, faktura, boleto, nota fiscal"),
    ("Outage", 40, "down, outage, fora do ar, awaria, nie działa, não funciona"),
    ("Password", 20, "password, senha, hasło, login"),
    ("Pricing", 10, "price, preço, cena, orçamento, oferta"),
]
PRODUCTS = [("Cloud PBX", "pbx, ramal, centrala"), ("Fiber", "fibra, światłowód, internet")]
SUBJECTS = [
    "Fatura em duplicidade",
    "Nie działa internet od rana",
    "Cannot log in after password reset",
    "Pedido de orçamento para 20 ramais",
    "Faktura za październik",
    "Sistema fora do ar",
    "Wrong amount on my invoice",
    "Zmiana hasła",
    "Preciso da segunda via do boleto",
    "Centrala nie odbiera połączeń",
    "Upgrade to a faster plan",
    "Erro ao acessar o portal",
]
# The portal's demo customer: signs in at /portal/ (or by emailed link to the address).
DEMO_CUSTOMER = ("customer", "customer", "Clara Cliente", "customer@example.com")

BODIES = [
    "Bom dia, preciso de ajuda com isto o quanto antes. Obrigado!",
    "Dzień dobry, proszę o pomoc w tej sprawie. Pozdrawiam.",
    "Hello, could you please look into this? It is blocking our team.",
]


def _open(contact, subject: str, body: str, *, pool, channel, now=None, **chosen) -> Ticket:
    """A ticket opened as customers open theirs: the intake service, with a list of one."""
    mail = CustomerMail(contact, body, subject=subject, pool=pool, routing_text=body, **chosen)
    receive_customer_messages([mail], channel=channel, now=now)
    assert mail.ticket is not None  # noqa: S101 (set by receive_customer_messages)
    return mail.ticket


class Command(BaseCommand):
    help = "Load demo data (once) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, tickets, seed, **options):
        if not get_user_model().objects.filter(username="agent").exists():
            self._load(tickets, random.Random(seed))  # noqa: S311 - demo data, not security
            self.stdout.write(
                self.style.SUCCESS(f"Demo data loaded: {Ticket.objects.count()} tickets.")
            )
        else:
            self.stdout.write("Demo data already present.")
        if not get_user_model().objects.filter(username=DEMO_CUSTOMER[0]).exists():
            self._load_customer(random.Random(seed))  # noqa: S311 - demo data, not security
        self.stdout.write("\nHelpdesk: http://127.0.0.1:8000/\nDemo logins (user / password):")
        for username, password, role, junior, *_ in DEMO_USERS:
            label = f"{role.label}{' (junior)' if junior else ''}"
            self.stdout.write(f"  {username:<11} / {password:<11} {label}")
        username, password, *_ = DEMO_CUSTOMER
        self.stdout.write(
            f"  {username:<11} / {password:<11} Customer: http://127.0.0.1:8000/portal/"
        )

    @transaction.atomic
    def _load(self, count, rng):
        users = {
            username: create_agent(
                username=username,
                password=password,
                role=role,
                is_junior=junior,
                first_name=first,
                last_name=last,
                email=f"{username}@helpdesk.localhost",
            )
            for username, password, role, junior, first, last in DEMO_USERS
        }
        pools = [Pool.objects.create(name=name) for name in POOLS]
        for priority, user in enumerate(["agent", "junior", "supervisor"], start=1):
            for index, pool in enumerate(pools):
                PoolMembership.objects.create(
                    pool=pool, user=users[user], pull_priority=1 + (index + priority) % 2
                )
        # Two sample access profiles, held by nobody: the demo agents keep their roles'
        # defaults until an admin hands one out (/settings/profiles/).
        save_access_profile(
            AccessProfile(name="Atendente N1", description="First line: answers and calls."),
            pools=pools[:1],
            features=[Feature.REPORTS, Feature.MERGE, Feature.PHONE_DESK, Feature.API_TOKENS],
        )
        save_access_profile(
            AccessProfile(name="Supervisor", description="Every feature, every pool's work."),
            pools=[],
            features=Feature.values,
        )
        topics = [
            Topic.objects.create(name=n, default_priority=p, keywords=k) for n, p, k in TOPICS
        ]
        products = [Product.objects.create(name=n, keywords=k) for n, k in PRODUCTS]
        billing = Skill.objects.create(name="Billing", keywords="fatura, faktura, invoice, boleto")
        users["agent"].agent_profile.skills.add(billing)
        sector = Sector.objects.create(name="Retail")
        orgs = [
            Organization.objects.create(name=n, sector=sector)
            for n in ("Loja Azul", "Sklep Zielony")
        ]
        found = find_or_create_contacts(
            {f"customer{index}@example.com": f"Customer {index}" for index in range(40)}
        )
        contacts = [found[f"customer{index}@example.com"] for index in range(40)]
        for index, contact in enumerate(contacts):
            contact.organization = orgs[index % 2]
            contact.save(update_fields=["organization"])
        CannedResponse.objects.create(
            title="Greeting",
            body=(
                "Hello {customer_name},\n\nthank you for contacting us about ticket "
                "{ticket_number}.\n\n{agent_name}"
            ),
        )
        CannedResponse.objects.create(
            title="Password reset steps",
            pool=pools[1],
            body="Dear {customer_name},\nplease reset your password here:",
            urls="http://127.0.0.1:8000/",
        )
        Absence.objects.create(
            agent=users["junior"],
            substitute=users["agent"],
            reason="Demo: last week's holiday",
            starts_at=timezone.now() - timedelta(days=10),
            ends_at=timezone.now() - timedelta(days=3),
        )
        for index in range(count):
            self._ticket(index, count, rng, pools, topics, products, contacts, users)

    @transaction.atomic
    def _load_customer(self, rng):
        """The portal's demo customer with a few tickets, one waiting for their approval."""
        username, password, name, email = DEMO_CUSTOMER
        contact = find_or_create_contacts({email: name})[email.lower()]
        create_customer_account(contact, username=username, password=password)
        pools = list(Pool.objects.order_by("name"))
        agent = get_user_model().objects.filter(username="agent").first()
        if not pools:
            return
        subjects = ["Wrong amount on my invoice", "Internet down since this morning"]
        for index, subject in enumerate(subjects):
            pool = pools[index % len(pools)]
            ticket = _open(contact, subject, rng.choice(BODIES), pool=pool, channel=Channel.PORTAL)
            if index == 0 and agent is not None and ticket.pool.memberships.filter(user=agent):
                services.add_reply(
                    ticket,
                    author=agent,
                    body="We corrected the invoice; the new one is in your account.",
                    then_status=Status.RESOLVED,
                )

    def _ticket(self, index, count, rng, pools, topics, products, contacts, users):
        created = timezone.now() - timedelta(minutes=(count - index) * 97)
        contact = rng.choice(contacts)
        ticket = _open(
            contact,
            rng.choice(SUBJECTS),
            rng.choice(BODIES),
            pool=rng.choice(pools),
            topic=rng.choice(topics),
            product=rng.choice([*products, None]),
            channel=rng.choice([Channel.EMAIL, Channel.EMAIL, Channel.PORTAL, Channel.PHONE]),
            now=created,
        )
        # A third stays waiting for Next ticket; the rest are spread over the other states.
        if index % 3 == 0:
            return
        agent = users[rng.choice(["agent", "junior", "supervisor"])]
        ticket = services.assign_ticket(ticket, agent=agent, actor=users["supervisor"])
        final = rng.choice(
            [
                Status.TAKEN,
                Status.IN_PROGRESS,
                Status.WAITING_CUSTOMER,
                Status.CONSULTATION,
                Status.RESOLVED,
                Status.CLOSED,
                Status.CANCELLED,
            ]
        )
        if final == Status.TAKEN:
            return
        # A junior's reply holds the status it sets (it waits in Approvals with it).
        held = final if is_junior(agent) and final in HELD_STATUSES else None
        services.add_reply(
            ticket, author=agent, body="Thank you, we are looking into it.", then_status=held
        )
        ticket.refresh_from_db()
        if final != ticket.status and held is None:
            services.change_status(ticket, to=final, actor=agent)
