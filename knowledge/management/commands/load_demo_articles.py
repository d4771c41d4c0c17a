"""Demo knowledge base: categories and Markdown articles in English, Portuguese and Polish
(once; run by ``make run``)."""

from django.core.management.base import BaseCommand

from knowledge import services
from knowledge.models import Article, Category, Visibility
from tickets.models import Pool

CATEGORIES = [
    ("Billing", "Faturamento", "Rozliczenia"),
    ("Internet and devices", "Internet e aparelhos", "Internet i urządzenia"),
    ("Your account", "Sua conta", "Twoje konto"),
    ("Agent handbook", "Manual do agente", "Podręcznik agenta"),
]

# (category index, pool name, visibility, {language: (title, markdown)})
ARTICLES = [
    (
        0,
        "Billing",
        Visibility.PUBLIC,
        {
            "en": (
                "How do I get a copy of my invoice?",
                "Sign in to the portal and open **Invoices**. Every invoice of the last "
                "24 months can be downloaded as PDF.\n\n"
                "If an amount looks wrong:\n\n"
                "1. Open a ticket in *Billing*;\n2. attach the invoice;\n"
                "3. tell us which line is wrong.",
            ),
            "pt-br": (
                "Como obtenho a segunda via da minha fatura?",
                "Entre no portal e abra **Faturas**. Todas as faturas dos últimos 24 meses "
                "podem ser baixadas em PDF.\n\n"
                "Se um valor parecer errado, abra um chamado em *Faturamento* e anexe a fatura.",
            ),
            "pl": (
                "Jak pobrać kopię faktury?",
                "Zaloguj się do portalu i otwórz **Faktury**. Każdą fakturę z ostatnich "
                "24 miesięcy pobierzesz jako PDF.\n\n"
                "Jeśli kwota na fakturze wygląda źle, otwórz zgłoszenie w dziale "
                "*Rozliczenia* i dołącz fakturę.",
            ),
        },
    ),
    (
        1,
        "Technical support",
        Visibility.PUBLIC,
        {
            "en": (
                "Internet down: what to check first",
                "## Restart the router\n\nUnplug it for **30 seconds**, then plug it back in.\n\n"
                "## Check the cable\n\nThe fibre cable must not be bent.\n\n"
                "Still down? Open a ticket with your address and the colour of the lights.",
            ),
            "pt-br": (
                "Internet fora do ar: o que verificar primeiro",
                "## Reinicie o roteador\n\nDesligue-o da tomada por **30 segundos**.\n\n"
                "## Verifique o cabo\n\nO cabo de fibra não pode estar dobrado.\n\n"
                "Ainda sem conexão? Abra um chamado com seu endereço e a cor das luzes.",
            ),
            "pl": (
                "Nie działa internet: co sprawdzić najpierw",
                "## Uruchom ponownie router\n\nOdłącz go od zasilania na **30 sekund**.\n\n"
                "## Sprawdź kabel\n\nKabel światłowodowy nie może być zgięty.\n\n"
                "Nadal brak połączenia? Otwórz zgłoszenie z adresem i kolorem diod routera.",
            ),
        },
    ),
    (
        2,
        None,
        Visibility.PUBLIC,
        {
            "en": (
                "Resetting your password",
                "Use the *Forgot password* link on the sign-in page. The link in the mail "
                "works **once** and expires after 20 minutes.",
            ),
            "pt-br": (
                "Como redefinir sua senha",
                "Use o link *Esqueci a senha* na página de entrada. O link do e-mail "
                "funciona **uma vez** e expira em 20 minutos.",
            ),
            "pl": (
                "Jak zresetować hasło",
                "Użyj linku *Nie pamiętam hasła* na stronie logowania. Link z wiadomości "
                "działa **raz** i wygasa po 20 minutach. Nowe hasło musi mieć 12 znaków.",
            ),
        },
    ),
    (
        3,
        None,
        Visibility.INTERNAL,
        {
            "en": (
                "Refunds above 500: who approves",
                "Refunds above **500** need a supervisor's approval. Add an internal note "
                "with the invoice number and ask in the *Billing* pool.\n\n"
                "| Amount | Who approves |\n|---|---|\n| up to 500 | the agent |\n"
                "| above 500 | a supervisor |",
            ),
        },
    ),
]


class Command(BaseCommand):
    help = "Load demo knowledge base articles (once)."

    def handle(self, *args, **options):
        if Article.objects.exists():
            self.stdout.write("Demo articles already present.")
            return
        categories = [
            Category.objects.create(name=en, name_pt_br=pt, name_pl=pl, position=i)
            for i, (en, pt, pl) in enumerate(CATEGORIES)
        ]
        pools = {pool.name: pool for pool in Pool.objects.all()}
        for category, pool_name, visibility, texts in ARTICLES:
            (language, (title, body)), *others = texts.items()
            article = services.create_article(
                author=None,
                language=language,
                title=title,
                body=body,
                publish=True,
                category=categories[category],
                pool=pools.get(pool_name or ""),
                visibility=visibility,
            )
            for language, (title, body) in others:
                services.save_version(
                    article, language=language, title=title, body=body, author=None, publish=True
                )
        self.stdout.write(self.style.SUCCESS(f"{len(ARTICLES)} demo articles loaded."))
