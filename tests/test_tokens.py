from helpdesk.tokens import new_token, token_digest


def test_tokens_are_random_prefixed_and_digested():
    first, second = new_token("hd"), new_token("hd")
    assert first != second
    assert first.startswith("hd_") and len(first) > 40
    assert token_digest(first) == token_digest(first)
    assert token_digest(first) != token_digest(second)
    assert first not in token_digest(first)
