"""A customer's app signs out (``Authorization: Contact <token>``): the session it uses, one
of the contact's other sessions, or all of them; and lists the contact's active sessions
so an app can offer "sign out my other devices". A contact reaches only their own
sessions: another contact's session id is "not found", and nothing is revoked."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.contact_sessions import revoke_contact_tokens
from api.models import ContactToken
from api.views.common import refuse_unknown
from api.views.conversations import ContactView


class AppSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="key")
    channel = serializers.UUIDField(source="channel.public_key")
    device = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    current = serializers.BooleanField(help_text=_("The session of the token making this call."))


class SignOutRequestSerializer(serializers.Serializer):
    session = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("One of the contact's sessions to sign out; none: this token's own."),
    )
    all = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Sign out every session of the contact, this one included."),
    )


class SignOutSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text=_("How many sessions were signed out."))


class AppSessionListView(ContactView):
    @extend_schema(
        responses={200: AppSessionSerializer(many=True)}, operation_id="contact_sessions_list"
    )
    def get(self, request):
        """The contact's app sessions that are still active, newest first."""
        refuse_unknown(request, [])
        current = request.auth.session
        sessions = ContactToken.objects.active().filter(contact=request.auth.contact)
        data = [
            {
                "key": session.key,
                "channel": session.channel,
                "device": session.device,
                "created_at": session.created_at,
                "last_used_at": session.last_used_at,
                "expires_at": session.expires_at,
                "current": session.pk == current.pk,
            }
            for session in sessions.select_related("channel")
        ]
        return Response(AppSessionSerializer(data, many=True).data)


class SignOutView(ContactView):
    @extend_schema(
        request=SignOutRequestSerializer,
        responses={200: SignOutSerializer},
        operation_id="contact_tokens_sign_out",
    )
    def post(self, request):
        """Sign out: this token's session (no body), one session of the contact
        (``session``), or all of them (``all``). A signed-out token gets 401 at once."""
        form = SignOutRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data["all"] and data["session"]:
            raise ValidationError({"all": [_("Give either a session or all, not both.")]})
        mine = ContactToken.objects.filter(contact=request.auth.contact)
        if data["all"]:
            chosen = mine
        elif data["session"]:
            chosen = mine.filter(key=data["session"])
            if not chosen.exists():
                raise Http404  # another contact's, or none: the same answer
        else:
            chosen = mine.filter(pk=request.auth.session.pk)
        count = revoke_contact_tokens(chosen, reason=ContactToken.Reason.SIGNED_OUT)
        return Response(SignOutSerializer({"revoked": count}).data)
