"""The phone desk in a real browser, in Brazilian Portuguese.

A PBX reports a call from an unknown number; the caller pops up for the agent of the pool
without a reload; the agent runs the intake wizard, adds the contact and opens a ticket.
The same number calls again: now the caller is known, the pending-tickets warning shows,
and a branching script is run with a Previous step before the second ticket is created.
Screenshots of each step at 1280 and 390 px go to tests/artifacts/.
"""

# ruff: noqa: F811 (the ASGI server fixture is imported, then asked for by name)

import json
import re
import urllib.request

import pytest
from playwright.sync_api import expect

from people.models import ContactPhone, Organization, Sector
from people.services import create_agent
from phone.models import AccessLogin, Call, CallScript, Plan, RoutingPoint, ScriptOption, ScriptStep
from phone.services import create_integration
from tests.browser.conftest import PASSWORD
from tests.live.server import asgi_server  # noqa: F401
from tickets.models import Message, PoolMembership, Product, Ticket
from tickets.states import Channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+55 11 91234-5678"


def _script(plan):
    script = CallScript.objects.create(name="Internet fora do ar", plan=plan)
    light = ScriptStep.objects.create(
        script=script,
        title="Modem",
        question="A luz de internet do modem está acesa?",
        customer_explanation="A luz fica na frente do modem.",
        operator_explanation="Apagada: sem sinal da fibra.",
    )
    restart = ScriptStep.objects.create(
        script=script, title="Reinício", question="O cliente já reiniciou o roteador?"
    )
    cable = ScriptStep.objects.create(
        script=script, title="Cabo", question="O cabo da fibra está bem encaixado?"
    )
    ScriptOption.objects.create(step=light, label="Sim, acesa", position=1, next_step=restart)
    ScriptOption.objects.create(step=light, label="Não, apagada", position=2, next_step=cable)
    ScriptOption.objects.create(step=restart, label="Sim", position=1)
    ScriptOption.objects.create(step=restart, label="Não", position=2)
    ScriptOption.objects.create(step=cable, label="Sim", position=1)
    ScriptOption.objects.create(step=cable, label="Não, estava solto", position=2)
    script.first_step = light
    script.save()
    return script


@pytest.fixture
def desk(pool):
    agent = create_agent(
        username="ana", password=PASSWORD, first_name="Ana", last_name="Souza", email="ana@hd.test"
    )
    agent.agent_profile.language = "pt-br"
    agent.agent_profile.save()
    PoolMembership.objects.create(pool=pool, user=agent)
    organization = Organization.objects.create(
        name="Loja Azul", sector=Sector.objects.create(name="Varejo")
    )
    Sector.objects.create(name="Compras")
    plan = Plan.objects.create(
        organization=organization, product=Product.objects.create(name="Fibra"), name="Fibra 500 Mb"
    )
    plan.pools.add(pool)
    RoutingPoint.objects.create(plan=plan, name="Loja Centro", address="Rua Augusta, 100")
    AccessLogin.objects.create(plan=plan, system="Roteador", username="admin", password="azul-2026")
    _script(plan)
    _integration, token = create_integration(name="PABX", pool=pool)
    return {"agent": agent, "organization": organization, "plan": plan, "token": token}


def cti(base_url, token, **event):
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        f"{base_url}/phone/cti/",
        data=json.dumps(event).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


class Shots:
    def __init__(self, page, directory):
        self.page, self.directory, self.count = page, directory, 0

    def __call__(self, name):
        self.count += 1
        stem = f"phone-{self.count:02d}-{name}"
        self.page.screenshot(path=self.directory / f"{stem}-1280.png", full_page=True)
        self.page.set_viewport_size({"width": 390, "height": 844})
        self.page.screenshot(path=self.directory / f"{stem}-390.png", full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 900})


def sign_in_pt(page, base_url):
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=username]").fill("ana")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    expect(page).to_have_url(f"{base_url}/tickets/")


def wizard_next(page, step):
    page.locator("#wizard-next").click()
    expect(page).to_have_url(
        f"/phone/intake/{step}/".join(page.url.split("/phone/intake/")[:1])
        + f"/phone/intake/{step}/"
    )


def test_phone_intake_journey_in_portuguese(
    browser, asgi_server, desk, page_problems, artifacts_dir
):
    base = asgi_server.url
    context = browser.new_context(
        locale="pt-BR", timezone_id="America/Sao_Paulo", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = page_problems.watch(context.new_page())
    shot = Shots(page, artifacts_dir)
    try:
        sign_in_pt(page, base)
        _open_calls(page, base)
        expect(page.locator("html")).to_have_attribute("lang", "pt-br")

        # 1. The PBX announces a call from a number nobody knows.
        answer = cti(
            base,
            desk["token"],
            event="newCall",
            callId="c-1",
            direction="in",
            **{"from": NUMBER, "to": "4000"},
        )
        assert answer["contact"] is None
        popup = _caller_popup(page, base)
        expect(popup).to_contain_text("Cliente não identificado")
        shot("popup-unknown")
        popup.get_by_role("button").last.click()

        # 2. The wizard, every step in order.
        expect(page.locator("#step-title")).to_have_text("Origem")
        expect(page.locator("input[name=origin][value=phone]")).to_be_checked()
        shot("origin")
        page.locator("#wizard-next").click()
        expect(page.locator("#matching-numbers")).to_contain_text("+5511912345678")
        expect(page.locator("#matching-numbers input[type=checkbox]")).to_be_checked()
        shot("filters")
        page.locator("#wizard-next").click()
        expect(page.locator("#records")).to_contain_text("Cliente não identificado")
        page.locator("#records input[type=radio]").first.check()
        shot("records")
        page.locator("#wizard-next").click()

        # Customer data: a contact needs one way to reach them; then it is saved.
        expect(page.locator("#unidentified")).to_be_visible()
        add = page.locator("#add-contact")
        add.locator("input[name=name]").fill("Rui Reis")
        add.locator("input[name=phone]").fill("")
        add.locator("#save-contact").click()
        expect(
            page.locator("#add-contact .alert-danger, #add-contact .alert-block")
        ).to_contain_text("pelo menos um entre cargo")
        shot("customer-error")
        add = page.locator("#add-contact")
        add.locator("input[name=name]").fill("Rui Reis")
        add.locator("select[name=organization]").select_option(label="Loja Azul")
        add.locator("select[name=sector]").select_option(label="Compras")
        add.locator("input[name=role]").fill("Gerente")
        add.locator("input[name=phone]").fill("(11) 91234-5678")
        add.locator("input[name=email]").fill("rui@lojaazul.test")
        add.locator("#save-contact").click()
        expect(page.locator("#customer-card")).to_contain_text("Rui Reis")
        expect(page.locator("#customer-card")).to_contain_text("Loja Azul")
        shot("customer-added")
        page.locator("#wizard-next").click()

        # Service data: no pending ticket yet; the plan's details open and close.
        expect(page.locator("#pending-warning")).to_have_count(0)
        page.locator(f"#plan-{desk['plan'].pk}").check()
        page.locator(f"#toggle-plan-{desk['plan'].pk}").click()
        details = page.locator(f"#plan-details-{desk['plan'].pk}")
        expect(details).to_have_class(re.compile(r"^collapse show$"))
        expect(details).to_contain_text("Loja Centro")
        expect(details.locator(".access-logins")).to_contain_text("azul-2026")
        shot("service-plan-details")
        page.locator(f"#toggle-plan-{desk['plan'].pk}").click()
        expect(details).to_have_class(re.compile(r"^collapse$"))
        expect(details).to_be_hidden()
        page.locator("#wizard-next").click()

        # Call script: end it at once this time.
        expect(page.locator("#script-question")).to_contain_text("A luz de internet")
        page.locator("#script-end").click()
        expect(page.locator("#empty-report")).to_be_visible()
        shot("report-empty")
        page.locator("#wizard-next").click()
        page.locator("textarea[name=description]").fill("Cliente novo: sem internet na loja.")
        shot("first-contact")
        page.locator("#create-ticket").click()
        first = Ticket.objects.get()
        expect(page).to_have_url(f"{base}/tickets/{first.number}/")
        assert first.channel == Channel.PHONE and first.requester.name == "Rui Reis"
        assert not first.messages.filter(kind=Message.Kind.NOTE).exists()

        # 3. The same number calls again: now the caller is known, with an open ticket.
        _open_calls(page, base)
        answer = cti(
            base,
            desk["token"],
            event="newCall",
            callId="c-2",
            direction="in",
            **{"from": "011912345678", "to": "4000"},
        )
        assert answer["contact"] == first.requester_id
        popup = _caller_popup(page, base)
        expect(popup).to_contain_text("Rui Reis")
        expect(popup).to_contain_text(first.number)
        shot("popup-known")
        popup.get_by_role("button").last.click()
        for _ in range(3):
            page.locator("#wizard-next").click()
        expect(page.locator("#customer-card")).to_contain_text("Rui Reis")
        page.locator("#wizard-next").click()
        expect(page.locator("#pending-warning")).to_contain_text("1 chamado pendente")
        expect(page.locator("#pending-warning a")).to_contain_text(first.number)
        shot("service-pending-warning")
        page.locator(f"#plan-{desk['plan'].pk}").check()
        page.locator("#wizard-next").click()

        # A branching script with a Previous step: the changed answer drops the later one.
        page.get_by_label("Sim, acesa").check()
        page.locator("#show-operator-explanation").click()
        expect(page.locator("#operator-explanation")).to_have_class(re.compile(r"^collapse show$"))
        shot("script-step-1")
        page.locator("#script-next").click()
        expect(page.locator("#script-question")).to_contain_text("reiniciou")
        shot("script-step-2")
        page.locator("#script-previous").click()
        expect(page.get_by_label("Sim, acesa")).to_be_checked()
        page.get_by_label("Não, apagada").check()
        page.locator("#script-next").click()
        expect(page.locator("#script-question")).to_contain_text("cabo da fibra")
        page.get_by_label("Não, estava solto").check()
        shot("script-branch")
        page.locator("#script-next").click()
        report = page.locator("#script-report")
        expect(report).to_contain_text("Não, apagada")
        expect(report).to_contain_text("Não, estava solto")
        expect(report).not_to_contain_text("reiniciou")
        shot("report")
        page.locator("#wizard-next").click()
        expect(page.locator("#summary")).to_contain_text("Rui Reis")
        page.locator("input[name=subject]").fill("Internet fora do ar - cabo solto")
        page.locator("textarea[name=description]").fill("Cabo da fibra estava solto.")
        shot("first-contact-2")
        page.locator("#create-ticket").click()
        second = Ticket.objects.exclude(pk=first.pk).get()
        expect(page).to_have_url(f"{base}/tickets/{second.number}/")
        expect(page.locator("article.kind-note")).to_contain_text("Não, estava solto")
        shot("ticket")
        assert Call.objects.get(call_id="c-2").ticket == second
        assert ContactPhone.objects.get(contact=second.requester).e164 == "+5511912345678"
        # The one 400 is the contact refused on purpose above.
        refused = f"{base}/phone/intake/customer/"
        assert [item for item in page_problems.items if refused not in item] == []
        assert len(page_problems.items) == 2  # its response and its console line
    finally:
        context.close()


def _open_calls(page, base):
    """The calls page, its live stream open; marked, so a reload would show."""
    page.goto(f"{base}/phone/calls/")
    expect(page.locator("html[data-live=connected]")).to_have_count(1)
    page.evaluate("window.notReloaded = true")


def _caller_popup(page, base):
    """The pop-up the ringing call brought, without a reload."""
    popup = page.locator(".call-popup").last
    expect(popup).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    return popup
