"""The agents' knowledge base: every agent reads published articles (internal ones too) and
searches them from the reply composer; agents with ``knowledge.write_articles`` write,
publish and unpublish, see drafts and revisions."""

from functools import wraps
from urllib.parse import urljoin

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from knowledge import rendering, search, services, similar
from knowledge.forms import CreateForm, ImageForm, SettingsForm, VersionForm
from knowledge.models import (
    Article,
    ArticleRevision,
    ArticleVersion,
    Category,
)
from knowledge.views.public import LANGUAGE_CODES, reader_language
from people.decorators import agent_required
from people.features import Feature
from people.profiles import check_feature, has_feature
from tickets.models import Ticket
from tickets.services import get_ticket_for
from tickets.views.forms import handle_form
from tickets.views.paging import page_of

PAGE_SIZE = 30
COMPOSER_RESULTS = 8
PREVIEW_CHARS = 100_000


def writer_required(view):
    """Agents allowed to write articles; anyone else gets a 404."""

    @wraps(view)
    @login_required
    @agent_required
    def wrapper(request, *args, **kwargs):
        check_feature(request.user, Feature.KNOWLEDGE_AUTHORING)
        return view(request, *args, **kwargs)

    return wrapper


def _versions_for(user):
    """Authors see drafts; other agents every published version (public or internal)."""
    versions = ArticleVersion.objects.all()
    return versions if has_feature(user, Feature.KNOWLEDGE_AUTHORING) else versions.for_agents()


@require_GET
@login_required
@agent_required
def article_list(request):
    writer = has_feature(request.user, Feature.KNOWLEDGE_AUTHORING)
    articles = services.with_vote_counts(
        Article.objects.select_related("category", "pool").prefetch_related("versions")
    )
    if not writer:
        articles = articles.filter(versions__published=True)
    query = request.GET.get("q", "").strip()[:200]
    if query:
        matching = search.search(_versions_for(request.user), query).values("article_id")
        articles = articles.filter(pk__in=matching)
    category = request.GET.get("category", "")
    if category.isdigit():
        articles = articles.filter(category_id=int(category))
    state = request.GET.get("state", "")
    if writer and state in ("published", "draft"):
        articles = articles.filter(published=state == "published")
    paged = page_of(request, articles.order_by("title", "pk"), PAGE_SIZE)
    context = {
        **paged,
        "articles": paged["rows"],
        "query": query,
        "categories": Category.objects.all(),
        "category_id": int(category) if category.isdigit() else None,
        "state": state,
        "writer": writer,
        "kb_languages": settings.LANGUAGES,
    }
    return render(request, "knowledge/agent_list.html", context)


@require_GET
@login_required
@agent_required
def article(request, article_id):
    """An article as agents read it, in the asked or their language, with its votes."""
    item = get_object_or_404(
        services.with_vote_counts(Article.objects.select_related("category", "pool")),
        pk=article_id,
    )
    versions = list(_versions_for(request.user).filter(article=item).select_related("updated_by"))
    by_language = {version.language: version for version in versions}
    version = (
        by_language.get(request.GET.get("lang", ""))
        or by_language.get(reader_language())
        or by_language.get(item.default_language)
        or (versions[0] if versions else None)
    )
    if version is None:
        raise Http404
    context = {
        "article": item,
        "version": version,
        "versions": versions,
        "writer": has_feature(request.user, Feature.KNOWLEDGE_AUTHORING),
        "kb_languages": settings.LANGUAGES,
        "public_url": _public_url(version) if item.is_public and version.published else "",
    }
    return render(request, "knowledge/agent_article.html", context)


@writer_required
def create(request):
    form = CreateForm(request.POST or None, initial={"language": reader_language()})
    settings_form = SettingsForm(request.POST or None, prefix="settings")

    def run(data):
        if not settings_form.is_valid():
            raise ValidationError(_("Check the article's settings."))
        return services.create_article(
            author=request.user,
            language=data["language"],
            title=data["title"],
            body=data["body"],
            publish=data["publish"],
            **settings_form.cleaned_data,
        )

    def failure(form):
        context = {"form": form, "settings_form": settings_form}
        status = 400 if request.method == "POST" else 200
        return render(request, "knowledge/agent_create.html", context, status=status)

    if request.method != "POST":
        return failure(form)
    return handle_form(
        request,
        form,
        run,
        success=lambda article: reverse("kb:edit", args=[article.pk, article.default_language]),
        failure=failure,
        done=_("Article saved."),
    )


@writer_required
def edit(request, article_id, language):
    """Write one language's version: every save keeps a revision; a missing language is
    created (as a draft) on its first save."""
    if language not in LANGUAGE_CODES:
        raise Http404
    item = get_object_or_404(Article.objects.select_related("category", "pool"), pk=article_id)
    version = ArticleVersion.objects.filter(article=item, language=language).first()
    initial = {"title": version.title, "body": version.body} if version else {}
    if version is None and item.versions.exists():
        # A translation starts from the default language's text.
        source = item.versions.filter(language=item.default_language).first()
        if source is not None:
            initial = {"title": source.title, "body": source.body}
    form = VersionForm(request.POST or None, initial=initial)

    def failure(form):
        context = {
            "article": item,
            "version": version,
            "language": language,
            "form": form,
            "settings_form": SettingsForm(instance=item, prefix="settings"),
            "image_form": ImageForm(),
            "images": item.images.all(),
            "versions": list(item.versions.all()),
            "kb_languages": settings.LANGUAGES,
        }
        status = 400 if request.method == "POST" else 200
        return render(request, "knowledge/agent_edit.html", context, status=status)

    if request.method != "POST":
        return failure(form)
    publish = {"publish": True, "draft": None}.get(request.POST.get("then", ""))
    return handle_form(
        request,
        form,
        lambda data: services.save_version(
            item, language=language, author=request.user, publish=publish, **data
        ),
        success=lambda saved: reverse("kb:edit", args=[item.pk, language]),
        failure=failure,
        done=_("Saved. The previous text is kept in the revisions."),
    )


@require_POST
@writer_required
def article_settings(request, article_id):
    item = get_object_or_404(Article, pk=article_id)
    form = SettingsForm(request.POST, instance=item, prefix="settings")
    if form.is_valid():
        services.update_settings(item, **form.cleaned_data)
        messages.success(request, _("Settings saved."))
    else:
        messages.error(request, _("The settings were not saved: check the fields."))
    return redirect("kb:edit", item.pk, request.POST.get("language") or item.default_language)


@require_POST
@writer_required
def publish(request, version_id):
    version = get_object_or_404(ArticleVersion.objects.select_related("article"), pk=version_id)
    publishing = request.POST.get("publish") == "1"
    services.set_published(version, publishing)
    messages.success(request, _("Published.") if publishing else _("Unpublished: now a draft."))
    return redirect("kb:edit", version.article_id, version.language)


@require_POST
@writer_required
def preview(request):
    html = rendering.render(request.POST.get("body", "")[:PREVIEW_CHARS])
    return HttpResponse(html or escape(_("Nothing to preview yet.")))


@require_POST
@writer_required
def upload_image(request, article_id):
    item = get_object_or_404(Article, pk=article_id)
    form = ImageForm(request.POST, request.FILES)
    error = ""
    if form.is_valid():
        try:
            services.add_image(item, form.cleaned_data["image"], user=request.user)
        except ValidationError as problem:
            error = " ".join(problem.messages)
    else:
        error = " ".join(str(e) for e in form.errors.get("image", [])) or _("Choose an image.")
    context = {"article": item, "images": item.images.all(), "image_error": error}
    return render(
        request, "knowledge/agent_edit.html#images", context, status=400 if error else 200
    )


@require_GET
@writer_required
def revisions(request, version_id):
    version = get_object_or_404(ArticleVersion.objects.select_related("article"), pk=version_id)
    rows = ArticleRevision.objects.filter(version=version).select_related("author")
    paged = page_of(request, rows, PAGE_SIZE)
    context = {**paged, "version": version, "revisions": paged["rows"]}
    return render(request, "knowledge/agent_revisions.html", context)


@require_GET
@writer_required
def revision(request, revision_id):
    item = get_object_or_404(
        ArticleRevision.objects.select_related("version__article", "author"), pk=revision_id
    )
    context = {"revision": item, "version": item.version, "html": rendering.render(item.body)}
    return render(request, "knowledge/agent_revision.html", context)


# --- on the ticket page ----------------------------------------------------------------------


def _public_url(version: ArticleVersion) -> str:
    path = reverse("help:article", args=[version.article_id]) + f"?lang={version.language}"
    return urljoin(settings.SITE_URL, path)


def _ticket_language(ticket) -> str:
    requester = ticket.requester
    language = getattr(requester, "language", "") if requester is not None else ""
    return language if language in LANGUAGE_CODES else reader_language()


def insertable(versions) -> list[dict]:
    """What the composer may insert: the text always, a link only for a public published
    version (an internal article never leaves as a link)."""
    return [
        {
            "version": version,
            "text": version.body_text,
            "link": _public_url(version) if version.article.is_public else "",
        }
        for version in versions
    ]


@require_GET
@login_required
@agent_required
def composer_search(request, number):
    ticket = get_ticket_for(request.user, number, queryset=_ticket_with_requester())
    query = request.GET.get("q", "").strip()[:200]
    results = []
    if query:
        versions = ArticleVersion.objects.for_agents()
        results = search.find(versions, query, _ticket_language(ticket), COMPOSER_RESULTS)
    context = {"results": insertable(results), "query": query, "ticket": ticket}
    return render(request, "knowledge/composer_results.html", context)


def _ticket_with_requester():
    return Ticket.objects.select_related("requester", "pool")


@require_GET
@login_required
@agent_required
def similar_panel(request, number):
    """The ticket page's lazily loaded panel: similar solved tickets, fitting canned
    responses and articles. A fixed number of queries (knowledge.similar)."""
    ticket = get_ticket_for(request.user, number, queryset=_ticket_with_requester())
    found = similar.suggestions_for(ticket, request.user, _ticket_language(ticket))
    context = {
        "ticket": ticket,
        "found": found,
        "articles": insertable(found.articles),
    }
    return render(request, "knowledge/similar_panel.html", context)
