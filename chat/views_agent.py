"""What the agent's ticket page sends to the chat app while they work: the typing signal."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from chat.typing import agent_typing
from people.decorators import agent_required
from tickets.services import get_ticket_for


@require_POST
@login_required
@agent_required
def typing(request, number):
    """The agent types in the reply form: the widget visitor sees "… is typing" (204)."""
    ticket = get_ticket_for(request.user, number)  # 404 unless the agent may see it
    agent_typing(ticket, user=request.user)
    return HttpResponse(status=204)
