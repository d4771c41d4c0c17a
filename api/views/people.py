"""Contacts and organizations: read, create, change; find a contact by address or number.

Customers are not kept per pool: what an agent may do with them follows the agents' own
permissions (``people.view_contact``, ``people.change_contact``), as in the UI.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.access import contacts_for
from api.pagination import ID_ORDERING
from api.views.common import PAGE_PARAMETERS, in_order, page_response, refuse_unknown
from people.models import Contact, Organization
from people.services import contacts_by_address, save_contact

ContactPage = serializers.list_of(serializers.ContactSerializer, "ContactPage")
OrganizationPage = serializers.list_of(serializers.OrganizationSerializer, "OrganizationPage")


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise exceptions.PermissionDenied(_("The owner of this token may not do this."))


def _contacts():
    return Contact.objects.prefetch_related("emails", "phones")


def _contact(request, pk) -> Contact:
    if abs(pk) > 2**62:
        raise Http404
    contact = contacts_for(request).prefetch_related("emails", "phones").filter(pk=pk).first()
    if contact is None:
        raise Http404
    return contact


class ContactListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("email", str, description=_("One of the contact's addresses.")),
            OpenApiParameter("phone", str, description=_("A number; only its digits count.")),
            OpenApiParameter("q", str, description=_("Part of the name.")),
            *PAGE_PARAMETERS,
        ],
        responses=ContactPage,
        operation_id="contacts_list",
    )
    def get(self, request):
        """Contacts, found by address, number or name."""
        _require(request, "people.view_contact")
        refuse_unknown(request, {"email", "phone", "q", "cursor", "limit"})
        params = request.query_params
        contacts = contacts_by_address(email=params.get("email", ""), phone=params.get("phone", ""))
        contacts = contacts.filter(pk__in=contacts_for(request).values("pk"))
        if params.get("q", "").strip():
            contacts = contacts.filter(name__icontains=params["q"].strip()[:100])
        return page_response(
            request, contacts, lambda ids: in_order(_contacts(), ids),
            serializers.ContactSerializer, orderings=ID_ORDERING, default="id",
        )  # fmt: skip

    @extend_schema(
        request=serializers.ContactSerializer,
        responses={201: serializers.ContactSerializer},
        operation_id="contacts_create",
    )
    def post(self, request):
        _require(request, "people.change_contact")
        return _save(request, None, status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    @extend_schema(responses=serializers.ContactSerializer, operation_id="contacts_read")
    def get(self, request, pk):
        _require(request, "people.view_contact")
        return Response(serializers.ContactSerializer(_contact(request, pk)).data)

    @extend_schema(
        request=serializers.ContactSerializer,
        responses=serializers.ContactSerializer,
        operation_id="contacts_update",
    )
    def patch(self, request, pk):
        _require(request, "people.change_contact")
        return _save(request, _contact(request, pk), status.HTTP_200_OK)


def _save(request, contact, code) -> Response:
    form = serializers.ContactSerializer(contact, data=request.data, partial=contact is not None)
    form.is_valid(raise_exception=True)
    data = dict(form.validated_data)
    emails, phones = data.pop("emails", None), data.pop("phones", None)
    contact = save_contact(contact, fields=data, emails=emails, phones=phones)
    saved = _contacts().get(pk=contact.pk)
    return Response(serializers.ContactSerializer(saved).data, status=code)


class OrganizationListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description=_("Part of the name.")),
            *PAGE_PARAMETERS,
        ],
        responses=OrganizationPage,
        operation_id="organizations_list",
    )
    def get(self, request):
        _require(request, "people.view_contact")
        refuse_unknown(request, {"q", "cursor", "limit"})
        organizations = Organization.objects.all()
        if request.query_params.get("q", "").strip():
            organizations = organizations.filter(
                name__icontains=request.query_params["q"].strip()[:100]
            )
        return page_response(
            request, organizations, lambda ids: in_order(Organization.objects, ids),
            serializers.OrganizationSerializer, orderings=ID_ORDERING, default="id",
        )  # fmt: skip

    @extend_schema(
        request=serializers.OrganizationSerializer,
        responses={201: serializers.OrganizationSerializer},
        operation_id="organizations_create",
    )
    def post(self, request):
        _require(request, "people.change_contact")
        form = serializers.OrganizationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        form.save()
        return Response(form.data, status=status.HTTP_201_CREATED)


class OrganizationDetailView(APIView):
    @extend_schema(responses=serializers.OrganizationSerializer, operation_id="organizations_read")
    def get(self, request, pk):
        _require(request, "people.view_contact")
        organization = Organization.objects.filter(pk=pk).first()
        if organization is None:
            raise Http404
        return Response(serializers.OrganizationSerializer(organization).data)

    @extend_schema(
        request=serializers.OrganizationSerializer,
        responses=serializers.OrganizationSerializer,
        operation_id="organizations_update",
    )
    def patch(self, request, pk):
        _require(request, "people.change_contact")
        organization = Organization.objects.filter(pk=pk).first()
        if organization is None:
            raise Http404
        form = serializers.OrganizationSerializer(organization, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        form.save()
        return Response(form.data)
