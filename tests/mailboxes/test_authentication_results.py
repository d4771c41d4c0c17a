"""Reading DMARC from Authentication-Results (RFC 8601): only the trusted server's header."""

import pytest

from mailboxes.authentication import dmarc_result, parse_authentication_results

MX = "mx.helpdesk.test"


def test_a_typical_header_gives_its_server_and_results():
    parsed = parse_authentication_results(
        "mx.helpdesk.test; spf=pass smtp.mailfrom=example.test; "
        "dkim=pass (2048-bit key) header.d=example.test header.s=s1; "
        "dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=example.test"
    )
    assert parsed is not None
    assert parsed.authserv_id == MX
    assert parsed.results == {"spf": "pass", "dkim": "pass", "dmarc": "fail"}


def test_version_comments_and_folding_whitespace_are_allowed():
    parsed = parse_authentication_results(
        "  MX.Helpdesk.Test 1 (our border server) ;\r\n\t dmarc (policy) = pass header.from=x.test"
    )
    assert parsed is not None
    assert (parsed.authserv_id, parsed.results) == (MX, {"dmarc": "pass"})


def test_a_header_with_no_results_says_none():
    parsed = parse_authentication_results("mx.helpdesk.test; none")
    assert parsed is not None
    assert parsed.results == {}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "; dmarc=pass",
        "mx.helpdesk.test",
        "mx.helpdesk.test dmarc=pass",
        "mx.helpdesk.test; dmarc",
        "mx.helpdesk.test; dmarc=",
        "mx.helpdesk.test; =pass",
        "mx.helpdesk.test (unclosed; dmarc=pass",
        "mx.helpdesk.test); dmarc=pass",
        'mx.helpdesk.test; dmarc=pass reason="unclosed',
        "mx.helpdesk.test extra words; dmarc=pass",
        "mx.helpdesk.test; dmarc=pass" + " " * 5000,
    ],
)
def test_a_malformed_header_is_not_read_at_all(value):
    assert parse_authentication_results(value) is None


def test_only_the_trusted_servers_header_counts():
    headers = [
        "other.example; dmarc=fail",
        "mx.helpdesk.test; dmarc=pass header.from=example.test",
    ]
    assert dmarc_result(headers, MX) == "pass"
    assert dmarc_result(headers, "other.example") == "fail"
    assert dmarc_result(headers, "third.example") is None


def test_a_forged_header_below_the_trusted_servers_own_is_ignored():
    # The receiving server prepends its header; a sender's forged one is further down.
    headers = [
        "mx.helpdesk.test; dmarc=fail header.from=example.test",
        "mx.helpdesk.test; dmarc=pass header.from=example.test",
    ]
    assert dmarc_result(headers, MX) == "fail"


def test_a_mailbox_that_trusts_no_server_evaluates_nothing():
    assert dmarc_result(["mx.helpdesk.test; dmarc=fail"], "") is None
    assert dmarc_result(["mx.helpdesk.test; dmarc=fail"], "   ") is None


def test_a_result_inside_a_comment_or_quoted_string_is_not_a_result():
    assert dmarc_result(["mx.helpdesk.test; spf=pass (dmarc=fail)"], MX) is None
    assert dmarc_result(['mx.helpdesk.test; spf=pass reason="dmarc=fail; x"'], MX) is None
