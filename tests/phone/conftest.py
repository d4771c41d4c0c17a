import pytest

from people.models import ContactPhone, Organization, Sector
from phone.models import AccessLogin, CallScript, Plan, RoutingPoint, ScriptOption, ScriptStep
from phone.services import create_integration
from tests.factories import ContactFactory
from tickets.models import Product


@pytest.fixture
def pbx(pool):
    integration, token = create_integration(name="Office PBX", pool=pool)
    integration.token = token
    return integration


@pytest.fixture
def organization(db):
    return Organization.objects.create(
        name="Padaria Pão Quente", sector=Sector.objects.create(name="Food")
    )


@pytest.fixture
def caller(organization):
    contact = ContactFactory(name="Paula Pereira", organization=organization)
    ContactPhone.objects.create(contact=contact, number="(11) 98765-4321")
    return contact


@pytest.fixture
def plan(organization, pool):
    plan = Plan.objects.create(
        organization=organization, product=Product.objects.create(name="Fiber"), name="Fiber 500"
    )
    plan.pools.add(pool)
    RoutingPoint.objects.create(plan=plan, name="Loja Centro", address="Rua A, 10")
    AccessLogin.objects.create(
        plan=plan, system="Router", username="admin-pq", password="s3cr3t-pq"
    )
    return plan


@pytest.fixture
def branching_script(plan):
    """Is the light on? yes -> restart? (done) ; no -> cable? yes/no (done)."""
    script = CallScript.objects.create(name="Internet down", plan=plan)
    light = ScriptStep.objects.create(
        script=script,
        title="Light",
        question="Is the modem light on?",
        customer_explanation="The light is on the front of the modem.",
        operator_explanation="Off means no power.",
    )
    restart = ScriptStep.objects.create(
        script=script, title="Restart", question="Did a restart help?"
    )
    cable = ScriptStep.objects.create(
        script=script, title="Cable", question="Is the power cable plugged in?"
    )
    ScriptOption.objects.create(step=light, label="Yes", position=1, next_step=restart)
    ScriptOption.objects.create(step=light, label="No", position=2, next_step=cable)
    ScriptOption.objects.create(step=restart, label="Yes", position=1)
    ScriptOption.objects.create(step=restart, label="No", position=2)
    ScriptOption.objects.create(step=cable, label="Yes", position=1)
    ScriptOption.objects.create(step=cable, label="No", position=2)
    script.first_step = light
    script.save()
    return script
