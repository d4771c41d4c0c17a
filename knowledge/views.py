"""Help articles on the customer portal: search before opening a ticket."""

from django.shortcuts import get_object_or_404, render

from knowledge.models import Article
from people.decorators import customer_required
from tickets.models import Pool

RESULTS = 20


@customer_required
def search(request):
    query = request.GET.get("q", "").strip()[:200]
    articles = Article.objects.published().select_related("pool")
    pools = Pool.objects.filter(active=True)
    pool_id = request.GET.get("pool", "")
    if pool_id.isdigit():
        articles = articles.filter(pool_id=int(pool_id))
    if query:
        articles = articles.search(query)
    context = {
        "query": query,
        "articles": articles[:RESULTS],
        "pools": pools,
        "pool_id": int(pool_id) if pool_id.isdigit() else None,
    }
    return render(request, "knowledge/article_list.html", context)


@customer_required
def article(request, article_id):
    item = get_object_or_404(Article.objects.published().select_related("pool"), pk=article_id)
    return render(request, "knowledge/article_detail.html", {"article": item})
