"""What readers see: the public help centre (/help/, no sign-in) and the portal's help pages
(/portal/help/, customers). Both show only published versions of public articles, in the
reader's language with the article's default language as the fallback."""

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from knowledge import search, services
from knowledge.models import Article, ArticleImage, ArticleVersion
from people.decorators import customer_required
from people.roles import is_agent

RESULTS = 20
SUGGESTIONS = 5
HOME_ARTICLES = 300
SUGGESTIONS_PER_MINUTE = 30
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}

# Where each kind of reader's pages live: the public centre or the customer portal.
PUBLIC = {"base": "knowledge/help_base.html", "ns": "help"}
PORTAL = {"base": "portal_base.html", "ns": "knowledge"}


def reader_language() -> str:
    language = (get_language() or settings.LANGUAGE_CODE).lower()
    return language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE


def readable_versions(language: str):
    """What a reader of ``language`` may see: one query's worth of filters."""
    return search.in_language(ArticleVersion.objects.readable(), language).select_related(
        "article__category", "article__pool"
    )


def _context(place: dict, **more) -> dict:
    return {
        "base_template": place["base"],
        "article_url": f"{place['ns']}:article",
        "search_url": f"{place['ns']}:search",
        "public": place is PUBLIC,
        **more,
    }


def _home(request, place):
    language = reader_language()
    versions = readable_versions(language).order_by(
        "article__category__position", "article__category__name", "title"
    )
    category_id = request.GET.get("category", "")
    if category_id.isdigit():
        versions = versions.filter(article__category_id=int(category_id))
    chosen = search.one_per_article(versions[:HOME_ARTICLES], language)
    groups: dict = {}
    for version in chosen:
        groups.setdefault(version.article.category, []).append(version)
    context = _context(place, groups=list(groups.items()), query="")
    return render(request, "knowledge/help_home.html", context)


def _search(request, place):
    query = request.GET.get("q", "").strip()[:200]
    language = reader_language()
    versions = readable_versions(language)
    pool_id = request.GET.get("pool", "")
    if pool_id.isdigit():
        versions = versions.filter(article__pool_id=int(pool_id))
    found = search.find(versions, query, language, RESULTS) if query else []
    context = _context(place, query=query, results=found)
    return render(request, "knowledge/help_search.html", context)


def pick_version(versions: list[ArticleVersion], wanted: str, language: str):
    """The version asked for (``?lang=``), else the reader's language, else the default."""
    by_language = {version.language: version for version in versions}
    default = versions[0].article.default_language if versions else ""
    return by_language.get(wanted) or by_language.get(language) or by_language.get(default)


def _article(request, article_id, place):
    versions = list(
        ArticleVersion.objects.readable()
        .filter(article_id=article_id)
        .select_related("article__category")
    )
    version = pick_version(versions, request.GET.get("lang", ""), reader_language())
    if version is None:
        raise Http404
    token = request.get_signed_cookie(
        services.VISITOR_COOKIE, default="", salt=services.VISITOR_SALT
    )
    voted = (request.user.is_authenticated or token) and services.has_voted(
        version.article, services.visitor_key(request, token)
    )
    context = _context(
        place,
        version=version,
        article=version.article,
        others=[v for v in versions if v.pk != version.pk],
        voted=voted,
    )
    return render(request, "knowledge/help_article.html", context)


# --- the public help centre ------------------------------------------------------------------


@require_GET
def home(request):
    return _home(request, PUBLIC)


@require_GET
def search_view(request):
    return _search(request, PUBLIC)


@require_GET
def article(request, article_id):
    return _article(request, article_id, PUBLIC)


@require_POST
def vote(request, article_id):
    """'Was this helpful?': one vote per visitor (a signed cookie, or the signed-in user)."""
    item = get_object_or_404(
        Article.objects.public().filter(versions__published=True).distinct(), pk=article_id
    )
    token, new = services.visitor_token(request)
    counted = services.vote(
        item,
        visitor=services.visitor_key(request, token),
        helpful=request.POST.get("helpful") == "yes",
    )
    if counted:
        messages.success(request, _("Thank you for your answer."))
    else:
        messages.info(request, _("You already answered for this article."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("help:article", args=[item.pk])
    response = redirect(back)
    if new:
        response.set_signed_cookie(
            services.VISITOR_COOKIE,
            token,
            salt=services.VISITOR_SALT,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@require_GET
def image(request, image_id):
    """An article's image: anyone for a public article with a published version, agents for
    the rest. Served under our content type, never sniffed, in a script-free sandbox."""
    item = get_object_or_404(ArticleImage.objects.select_related("article"), pk=image_id)
    readable = (
        item.article.is_public
        and ArticleVersion.objects.filter(article=item.article, published=True).exists()
    )
    if not readable and not is_agent(request.user):
        raise Http404
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the portal ------------------------------------------------------------------------------


@customer_required
def portal_search(request):
    if request.GET.get("q", "").strip():
        return _search(request, PORTAL)
    return _home(request, PORTAL)


@customer_required
def portal_article(request, article_id):
    return _article(request, article_id, PORTAL)


def _too_many_suggestions(request) -> bool:
    key = f"kb-suggest:{request.user.pk}:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) > SUGGESTIONS_PER_MINUTE
    except ValueError:
        cache.set(key, 1, timeout=60)
        return False


@customer_required
@require_GET
def suggest(request):
    """Articles matching the subject a customer is typing (htmx, debounced by the form)."""
    text = request.GET.get("subject", "").strip()[:200]
    if _too_many_suggestions(request):
        return render(request, "knowledge/suggestions.html", {"results": []}, status=429)
    language = reader_language()
    found = []
    if len(text) >= 3:
        found = search.find_any(readable_versions(language), text, language, SUGGESTIONS)
    return render(request, "knowledge/suggestions.html", {"results": found, "query": text})
