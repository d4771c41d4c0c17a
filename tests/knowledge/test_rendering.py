"""Markdown is rendered, then sanitised: nothing an author types can run in a reader's page."""

from html.parser import HTMLParser

import pytest

from knowledge import rendering


class Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.attrs = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]


def assert_harmless(html):
    found = Elements(html)
    assert not {"script", "iframe", "style", "object", "embed"} & set(found.tags), found.tags
    for name, value in found.attrs:
        assert not name.startswith("on"), name
        assert not value.strip().lower().startswith("javascript:"), value


def test_markdown_is_formatted():
    html = rendering.render("# Title\n\n**bold** and *it*\n\n- one\n- two\n\n[a](https://x.test)")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<li>one</li>" in html
    assert 'href="https://x.test"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '![x](javascript:alert(1) "t")',
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src='https://evil.test'></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_script_and_handlers_are_stripped(markdown):
    assert_harmless(rendering.render(markdown))


def test_nh3_strips_what_the_parser_would_let_through():
    # Defence in depth: even raw HTML handed to the sanitiser loses script and handlers.
    import nh3

    raw = '<p onclick="x()">a</p><script>x()</script><img src="/i.png" onerror="x()">'
    html = nh3.clean(raw, tags=rendering.TAGS, attributes=rendering.ATTRIBUTES)
    assert_harmless(html)
    assert "<p>a</p>" in html


def test_images_are_kept():
    html = rendering.render("![router](/help/images/3/)")
    assert '<img src="/help/images/3/" alt="router">' in html


def test_the_plain_text_has_no_tags():
    text = rendering.plain_text(rendering.render("# Hi\n\nOne **two** &amp; <b>three</b>"))
    # Raw HTML is never markup: the reader saw it as text, so the plain text keeps it as text.
    assert text == "Hi\n\nOne two & <b>three</b>"


def test_a_saved_version_keeps_sanitised_html(db, make_article):
    article = make_article({"en": ("Bad", "Hello <script>x()</script> <img src=x onerror=y()>")})
    version = article.versions.get()
    assert_harmless(version.body_html)
    assert version.body == "Hello <script>x()</script> <img src=x onerror=y()>"
