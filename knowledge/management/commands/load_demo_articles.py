"""Demo help articles for the customer portal (once)."""

from django.core.management.base import BaseCommand

from knowledge.models import Article
from tickets.models import Pool

ARTICLES = [
    (
        "How do I get a copy of my invoice?",
        "Billing",
        "Sign in to the portal and open Invoices. Every invoice of the last 24 months can be "
        "downloaded as PDF.\n\nIf an amount looks wrong, open a ticket in Billing and attach "
        "the invoice.",
    ),
    (
        "Internet down: what to check first",
        "Technical support",
        "Restart the router: unplug it for 30 seconds. Check that the fiber cable is not bent."
        "\n\nStill down? Open a ticket with your address and the colour of the router's lights.",
    ),
    (
        "Resetting your password",
        None,
        "Use the 'Forgot password' link on the sign-in page. The link in the mail works once "
        "and expires after 20 minutes.",
    ),
]


class Command(BaseCommand):
    help = "Load demo help articles (once)."

    def handle(self, *args, **options):
        if Article.objects.exists():
            self.stdout.write("Demo articles already present.")
            return
        pools = {pool.name: pool for pool in Pool.objects.all()}
        for title, pool_name, body in ARTICLES:
            Article.objects.create(
                title=title, body=body, pool=pools.get(pool_name or ""), published=True
            )
        self.stdout.write(self.style.SUCCESS(f"{len(ARTICLES)} demo articles loaded."))
