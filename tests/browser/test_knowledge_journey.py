"""The knowledge base in a real browser: an agent writes an article in English and Polish
and publishes it; a visitor finds it in the help centre in Polish (an inflected word) and
votes; a customer typing a new ticket's subject sees it suggested; the agent inserts it
into a reply from the composer. Screenshots at 1280 and 390 px."""

import re

import pytest
from playwright.sync_api import expect

from knowledge.models import Article, ArticleVote
from people.models import Role
from people.services import create_agent, create_customer_account
from tests.browser.conftest import PASSWORD
from tickets.models import PoolMembership, Ticket
from tickets.search import tokens

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EN_BODY = "When the **router lights** blink red, restart the router:\n\n1. unplug it\n2. wait 30 s"
PL_BODY = "Gdy **diody routera** migają na czerwono, uruchom router ponownie."


def _shot(page, artifacts_dir, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(artifacts_dir / f"kb-{name}-{width}.png"), full_page=True)
        # Our content, below the navigation bar (the portal's bar is the workspace work's).
        overflow = page.evaluate(
            "document.querySelector('main').scrollWidth > document.querySelector('main')"
            ".clientWidth + 1"
        )
        assert not overflow, f"{name} scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_article_is_written_found_voted_suggested_and_inserted(
    browser,
    new_context,
    live_server,
    sign_in,
    page_problems,
    artifacts_dir,
    pool,
    customer,
    settings,
):
    settings.SITE_URL = live_server.url
    base = live_server.url
    # The server thread shares this process: load the dictionaries once, before the clock runs.
    for language in ("en", "pl", "pt-br"):
        tokens("routers diodami faturas", language)
    create_agent(username="sara", password=PASSWORD, first_name="Sara", role=Role.SUPERVISOR)
    ana = create_agent(username="ana", password=PASSWORD, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=ana)
    create_customer_account(customer, username="carla", password=PASSWORD)

    # The writer: English first, then the Polish version, both published.
    writer = page_problems.watch(new_context().new_page())
    sign_in(writer, "sara")
    writer.locator("#nav-knowledge").click()
    writer.locator("#new-article").click()
    writer.locator("#id_title").fill("Router lights explained")
    writer.locator("#id_body").fill(EN_BODY)
    writer.get_by_label("Publish now").check()
    writer.locator("#save-article").click()
    expect(writer.locator(".alert-success")).to_be_visible()
    article = Article.objects.get()
    assert article.published
    writer.locator("#lang-pl").click()
    writer.locator("#id_title").fill("Diody routera")
    writer.locator("#id_body").fill(PL_BODY)
    writer.locator("#preview-tab").click()
    expect(writer.locator("#article-preview strong")).to_have_text("diody routera")
    _shot(writer, artifacts_dir, "editor")
    writer.locator("#save-publish").click()
    expect(writer.locator(".alert-success")).to_be_visible()
    assert article.versions.get(language="pl").published

    # A visitor reading Polish, not signed in: finds it by an inflected word, votes.
    visitor_context = browser.new_context(locale="pl-PL", timezone_id="UTC")
    visitor = page_problems.watch(visitor_context.new_page())
    visitor.goto(f"{base}/help/")
    expect(visitor.locator(".kb-result")).to_contain_text("Diody routera")
    _shot(visitor, artifacts_dir, "help-home-pl")
    visitor.locator("#help-search input[name=q]").fill("diodami")  # instrumental plural
    visitor.locator("#help-search button").click()
    expect(visitor.locator(".kb-result")).to_have_count(1)
    visitor.locator(".kb-result").click()
    expect(visitor.locator("article h1")).to_have_text("Diody routera")
    expect(visitor.locator(".kb-body strong")).to_have_text("diody routera")
    _shot(visitor, artifacts_dir, "article-pl")
    visitor.locator("#helpful button[value=yes]").click()
    expect(visitor.locator("#helpful")).not_to_contain_text("?")
    assert ArticleVote.objects.filter(article=article, helpful=True).count() == 1
    visitor_context.close()

    # A customer typing a new ticket's subject sees it suggested, then sends the ticket.
    portal = page_problems.watch(new_context().new_page())
    portal.goto(f"{base}/portal/login/")
    portal.get_by_label("Username").fill("carla")
    portal.get_by_label("Password").fill(PASSWORD)
    portal.get_by_role("button", name="Sign in").click()
    portal.locator("#nav-new-ticket").click()
    portal.get_by_label("Subject").press_sequentially("My router lights blink", delay=20)
    expect(portal.locator(".kb-suggestion")).to_have_text("Router lights explained")
    _shot(portal, artifacts_dir, "portal-suggestion")
    portal.get_by_label("Description").fill("The router lights blink red since this morning.")
    portal.get_by_role("button", name="Send").click()
    expect(portal).to_have_url(re.compile(r"/portal/tickets/"))
    ticket = Ticket.objects.get()

    # The agent finds it from the reply composer and inserts the public link.
    agent = page_problems.watch(new_context().new_page())
    sign_in(agent, "ana")
    agent.goto(f"{base}/tickets/{ticket.number}/")
    expect(agent.locator("#panel-similar")).to_be_visible()
    expect(agent.locator("#similar-articles")).to_contain_text("Router lights explained")
    agent.locator("#composer-articles summary").click()
    agent.locator("#composer-article-search").fill("router")
    agent.locator("#composer-article-list .kb-insert-link").first.click()
    reply = agent.locator("#reply-form textarea[name=body]")
    expect(reply).to_have_value(re.compile(rf"{re.escape(base)}/help/articles/{article.pk}/"))
    _shot(agent, artifacts_dir, "ticket-composer")

    # Votes show to agents.
    writer.goto(f"{base}/knowledge/")
    expect(writer.locator(".article-row")).to_contain_text("1")
    _shot(writer, artifacts_dir, "agent-list")
    assert not page_problems.items, page_problems.items
