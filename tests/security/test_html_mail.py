"""Mail HTML is sanitized at render time from the kept original (CVE-2021-3945 and kin)."""

from django.urls import reverse

from tickets import services


def test_script_links_and_remote_images_are_stripped_when_shown(agent_client, pool, customer):
    ticket = services.create_ticket(subject="<b>hi</b>", pool=pool, requester=customer)
    raw = (
        '<p onclick="steal()">Hello<script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a><img src="https://tracker.test/p.gif"></p>'
    )
    message = services.add_customer_message(
        ticket, contact=customer, body_text="Hello", body_html=raw
    )
    response = agent_client.get(reverse("tickets:detail", args=[ticket.number]))
    page = response.text
    assert "<script>alert(1)" not in page
    assert "javascript:alert" not in page
    assert "tracker.test" not in page
    assert "onclick" not in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page
    message.refresh_from_db()
    assert message.body_html == raw  # the original is kept


def test_pages_carry_a_content_security_policy(agent_client):
    response = agent_client.get(reverse("tickets:queue"))
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if "script-src" in part)
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src
    assert "object-src 'none'" in policy
