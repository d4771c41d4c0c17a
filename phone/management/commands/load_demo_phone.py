"""Demo phone desk (once): a PBX link, a plan with routing points and logins, a script."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from people.models import Contact, ContactPhone, Organization
from phone.models import AccessLogin, CallScript, Plan, RoutingPoint, ScriptOption, ScriptStep
from phone.services import create_integration
from tickets.models import Pool, Product

# The branching script: (key, title, question, for the customer, for the operator,
# [(answer, next key or None)]). The first step is the first row.
SCRIPT: list[tuple[str, str, str, str, str, list[tuple[str, str | None]]]] = [
    (
        "light",
        "Modem",
        "A luz de internet do modem está acesa?",
        "A luz fica na frente do modem, marcada com um globo ou “Internet”.",
        "Apagada: sem sinal da fibra. Acesa: o problema está na rede do cliente.",
        [("Sim, está acesa", "restart"), ("Não, está apagada", "cable")],
    ),
    (
        "restart",
        "Reinício",
        "O cliente já reiniciou o roteador?",
        "Desligue o roteador da tomada, espere 30 segundos e ligue de novo.",
        "Aguarde 2 minutos depois de religar antes de perguntar de novo.",
        [("Sim, continua sem internet", "devices"), ("Reiniciou e voltou", None)],
    ),
    (
        "devices",
        "Aparelhos",
        "Todos os aparelhos estão sem internet?",
        "Teste no celular pelo Wi-Fi e num computador pelo cabo, se houver.",
        "Só um aparelho: problema no aparelho, não no serviço.",
        [("Todos", None), ("Só um aparelho", None)],
    ),
    (
        "cable",
        "Cabo da fibra",
        "O cabo fino da fibra está bem encaixado e sem dobras?",
        "É o cabo verde ou azul que entra no modem; não o dobre.",
        "Cabo dobrado ou solto: agende visita técnica.",
        [("Sim, está encaixado", None), ("Não, estava solto", None)],
    ),
]


class Command(BaseCommand):
    help = "Load a demo PBX integration, plan, routing points, access logins and call script."

    def handle(self, *args, **options):
        if CallScript.objects.filter(name="Internet fora do ar").exists():
            self.stdout.write("Demo phone desk already loaded.")
            return
        pool = Pool.objects.filter(name="Technical support").first()
        organization = Organization.objects.filter(name="Loja Azul").first()
        product = Product.objects.filter(name="Fiber").first()
        if pool is None or organization is None or product is None:
            raise CommandError("Run load_demo first (pools, organizations and products).")
        token = self._load(pool, organization, product)
        self.stdout.write(
            "Demo phone desk loaded. PBX token (shown once; POST events to /phone/cti/ with "
            f"'Authorization: Bearer <token>'): {token}"
        )

    @transaction.atomic
    def _load(self, pool, organization, product) -> str:
        _integration, token = create_integration(name="Demo PBX", pool=pool)
        plan = Plan.objects.create(organization=organization, product=product, name="Fibra 500 Mb")
        plan.pools.add(pool)
        RoutingPoint.objects.create(
            plan=plan, name="Loja Centro", address="Rua Augusta, 100 - São Paulo"
        )
        RoutingPoint.objects.create(
            plan=plan, name="Depósito", address="Av. do Estado, 2000 - São Paulo"
        )
        AccessLogin.objects.create(
            plan=plan,
            system="Roteador",
            username="admin",
            password="azul-2026",  # noqa: S106 (demo)
        )
        AccessLogin.objects.create(
            plan=plan,
            system="Portal do provedor",
            username="loja.azul",
            password="Fibra#500",  # noqa: S106 (demo)
        )
        script = CallScript.objects.create(name="Internet fora do ar", plan=plan)
        steps = {
            key: ScriptStep.objects.create(
                script=script,
                title=title,
                question=question,
                customer_explanation=customer,
                operator_explanation=operator,
            )
            for key, title, question, customer, operator, _options in SCRIPT
        }
        for key, *_texts, options in SCRIPT:
            for position, (label, next_key) in enumerate(options, start=1):
                ScriptOption.objects.create(
                    step=steps[key],
                    label=label,
                    position=position,
                    next_step=steps[next_key] if next_key else None,
                )
        script.first_step = steps[SCRIPT[0][0]]
        script.save(update_fields=["first_step"])
        # A known caller: the first demo contact of the organisation has a phone number.
        contact = Contact.objects.filter(organization=organization).order_by("pk").first()
        if contact is not None:
            ContactPhone.objects.create(contact=contact, number="(11) 98765-4321")
        return token
