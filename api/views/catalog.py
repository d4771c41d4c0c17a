"""Pools, topics, products, articles, survey answers, report figures and the token itself."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.access import pools_for, tickets_for
from api.permissions import TokenScope, feature_permission
from api.views.common import PAGE_PARAMETERS, in_order, page_response, refuse_unknown
from knowledge.models import ArticleVersion
from knowledge.search import in_language
from knowledge.search import search as search_articles
from people.features import Feature
from people.roles import sees_all_pools
from reports.figures import DASHBOARD, PERIOD_REPORT, measure_keys
from reports.measures import MEASURES, RATIOS, compute, ratio
from reports.periods import PeriodForm
from surveys.models import Answer
from surveys.models import Response as SurveyResponse
from tickets.models import Product, Topic


class PoolListView(APIView):
    @extend_schema(responses=serializers.PoolSerializer(many=True), operation_id="pools_list")
    def get(self, request):
        """The pools this token works in."""
        refuse_unknown(request, ())
        return Response(serializers.PoolSerializer(pools_for(request), many=True).data)


class TopicListView(APIView):
    @extend_schema(responses=serializers.TopicSerializer(many=True), operation_id="topics_list")
    def get(self, request):
        refuse_unknown(request, ())
        return Response(serializers.TopicSerializer(Topic.objects.all(), many=True).data)


class ProductListView(APIView):
    @extend_schema(responses=serializers.ProductSerializer(many=True), operation_id="products_list")
    def get(self, request):
        refuse_unknown(request, ())
        return Response(serializers.ProductSerializer(Product.objects.all(), many=True).data)


ARTICLES_SHOWN = 50


class ArticleListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description=_("Words of the title or the text.")),
            OpenApiParameter("pool", int),
        ],
        responses=serializers.ArticleSerializer(many=True),
        operation_id="articles_list",
    )
    def get(self, request):
        """Published help articles (at most 50), searched as the help centre searches."""
        refuse_unknown(request, {"q", "pool", "language"})
        articles = ArticleVersion.objects.readable().select_related("article")
        pool = request.query_params.get("pool", "")
        if pool:
            if not pool.isdigit() or len(pool) > 18:
                raise Http404
            articles = articles.filter(article__pool_id=int(pool))
        language = request.query_params.get("language", "")
        if language:
            articles = in_language(articles, language)
        query = request.query_params.get("q", "").strip()[:200]
        articles = search_articles(articles, query) if query else articles.order_by("title", "pk")
        data = serializers.ArticleSerializer(articles[:ARTICLES_SHOWN], many=True).data
        return Response(data)


class ArticleDetailView(APIView):
    @extend_schema(responses=serializers.ArticleSerializer, operation_id="articles_read")
    def get(self, request, pk):
        article = (
            ArticleVersion.objects.readable()
            .select_related("article")
            .filter(article_id=pk)
            .order_by("-updated_at")
            .first()
        )
        if article is None:
            raise Http404
        return Response(serializers.ArticleSerializer(article).data)


SurveyPage = serializers.list_of(serializers.SurveyResponseSerializer, "SurveyResponsePage")
NEWEST_FIRST = {"-created": ("created_at", True)}


def _survey_rows(ids):
    answers = Answer.objects.select_related("question").prefetch_related("choices")
    responses = SurveyResponse.objects.select_related("ticket", "questionnaire").prefetch_related(
        Prefetch("answers", queryset=answers)
    )
    return in_order(responses, ids)


class SurveyResponseListView(APIView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=SurveyPage, operation_id="surveys_list")
    def get(self, request):
        """Survey answers on the tickets this token may see, newest first."""
        refuse_unknown(request, {"cursor", "limit"})
        responses = SurveyResponse.objects.filter(ticket__in=tickets_for(request).values("pk"))
        return page_response(
            request, responses, _survey_rows, serializers.SurveyResponseSerializer,
            orderings=NEWEST_FIRST, default="-created",
        )  # fmt: skip


def _report_keys() -> list[str]:
    keys = [name for _title, items in DASHBOARD for pair in items for name in pair if name]
    return list(dict.fromkeys([*keys, *PERIOD_REPORT]))


class ReportFiguresView(APIView):
    permission_classes = [TokenScope, feature_permission(Feature.REPORTS)]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=[key for key, _label in PeriodForm.CHOICES]),
            OpenApiParameter("start", str, description=_("With period=custom: YYYY-MM-DD.")),
            OpenApiParameter("end", str, description=_("With period=custom: YYYY-MM-DD.")),
        ],
        responses=serializers.ReportFiguresSerializer,
        operation_id="reports_figures",
    )
    def get(self, request):
        """The indicators of the reports page, over the tickets this token may see: for a
        supervisor's token every ticket of its pools, for an agent's their own tickets, as
        the reports count them."""
        refuse_unknown(request, {"period", "start", "end"})
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(
                {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            )
        now, before = form.periods()
        tickets = tickets_for(request)
        if not sees_all_pools(request.user):
            tickets = tickets.filter(assignee=request.user)
        keys = _report_keys()
        values = compute(tickets, {"now": now, "before": before}, measure_keys(keys))
        figures = []
        for key in keys:
            if key in RATIOS:
                label, unit = RATIOS[key][2], "percent"
                current, previous = ratio(values["now"], key), ratio(values["before"], key)
            else:
                label, unit = MEASURES[key].label, MEASURES[key].unit
                current, previous = values["now"].get(key), values["before"].get(key)
                previous = None if key == "open_now" else previous
            figures.append(
                {"key": key, "label": str(label), "unit": unit, "now": current, "before": previous}
            )
        data = {
            "period": {"start": now.start, "end": now.end},
            "previous": {"start": before.start, "end": before.end},
            "figures": figures,
        }
        return Response(serializers.ReportFiguresSerializer(data).data)


class TokenInfoView(APIView):
    @extend_schema(responses=serializers.TokenInfoSerializer, operation_id="token_read")
    def get(self, request):
        """The token making this request: its owner, access and pools."""
        refuse_unknown(request, ())
        return Response(serializers.TokenInfoSerializer(request.auth).data)
