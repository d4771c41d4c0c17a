"""The intake wizard's pages: one handler per step, state in the agent's IntakeDraft.

Each step's page posts an ``action``: ``back`` and ``cancel`` work everywhere (without
validating anything), ``next`` validates the step and moves on, and some steps have their
own (``list`` numbers, ``choose`` or ``add`` a contact, ``answer``/``previous``/``end`` in
the script). A step other than the draft's own is never shown: the agent is sent back to
where their wizard is, so nothing can be skipped by typing a URL.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from people.decorators import agent_required
from people.features import Feature
from people.models import Contact
from people.phones import number_prefix
from people.profiles import feature_required
from phone import intake, scripts
from phone.forms import (
    ContactForm,
    FiltersForm,
    FirstContactForm,
    OriginForm,
    RecordsForm,
    ServiceForm,
)
from phone.intake import STEP_TITLES, save_draft
from phone.models import Call, CallScript
from phone.services import NewContact, add_contact, numbers_starting_with
from tickets.states import Channel

CONTACTS_LISTED = 20


def _go(step: str):
    return redirect("phone:intake_step", step=step)


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
def wizard(request):
    return _go(intake.draft_for(request.user).step)


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
def step_page(request, step):
    draft = intake.draft_for(request.user)
    if step != draft.step or step not in intake.steps_for(draft.data):
        return _go(draft.step)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        intake.cancel_intake(request.user)
        messages.info(request, _("The intake was cancelled."))
        return redirect("phone:calls")
    if action == "back":
        save_draft(draft, step=intake.previous_step(draft.data, step))
        return _go(draft.step)
    return HANDLERS[step](request, draft, action)


def _render(request, draft, template: str, **context):
    steps = intake.steps_for(draft.data)
    context |= {
        "draft": draft,
        "step": draft.step,
        "steps": [(name, STEP_TITLES[name]) for name in steps],
        "step_index": steps.index(draft.step),
        "call": intake.chosen_call(request.user, draft.data),
    }
    status = 400 if any(getattr(f, "errors", None) for f in context.values()) else 200
    return render(request, f"phone/intake/{template}.html", context, status=status)


def _next(draft):
    save_draft(draft, step=intake.next_step(draft.data, draft.step))
    return _go(draft.step)


def origin_step(request, draft, action):
    form = OriginForm(request.POST or None, initial={"origin": draft.data.get("origin", "phone")})
    if action == "next" and form.is_valid():
        save_draft(draft, origin=form.cleaned_data["origin"])
        return _next(draft)
    return _render(request, draft, "origin", form=form)


def filters_step(request, draft, action):
    data = draft.data
    typed = request.POST.get("digits", data.get("digits", "")) if action else data.get("digits", "")
    quantity = _quantity(request.POST.get("quantity") if action else None, data.get("quantity", 50))
    listed = numbers_starting_with(request.user, typed, limit=quantity) if typed else []
    listed += [n for n in data.get("numbers", []) if n not in listed and action != "list"]
    initial = {
        "mode": data.get("mode", "period"),
        "days": data.get("days", 7),
        "date_from": data.get("date_from"),
        "date_to": data.get("date_to"),
        "digits": data.get("digits", ""),
        "quantity": data.get("quantity", intake.DEFAULT_QUANTITY),
        # Every matching number is ticked at first.
        "numbers": data.get("numbers", listed),
    }
    form = FiltersForm(request.POST or None, initial=initial, listed=listed)
    if action in ("list", "next") and form.is_valid():
        values = form.cleaned_data
        numbers = listed if action == "list" else values["numbers"]
        if action == "next" and values["mode"] == "phone" and not numbers:
            form.add_error("numbers", _("Tick at least one number, or list them first."))
        else:
            save_draft(
                draft,
                mode=values["mode"],
                days=values["days"],
                date_from=values["date_from"].isoformat() if values["date_from"] else None,
                date_to=values["date_to"].isoformat() if values["date_to"] else None,
                digits=values["digits"].strip(),
                numbers=numbers,
                quantity=values["quantity"],
            )
            if action == "next":
                return _next(draft)
            return _go(draft.step)
    return _render(request, draft, "filters", form=form, listed=listed, prefix=number_prefix(typed))


def _int(value, default: int) -> int:
    """A posted integer (an id), or ``default`` when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(default)


def _quantity(value, default: int) -> int:
    """How many numbers the filter lists: between 1 and 500."""
    return max(1, min(_int(value, default), 500))


def records_step(request, draft, action):
    calls = intake.calls_found(request.user, draft.data)
    ids = [call.pk for call in calls]
    form = RecordsForm(
        request.POST or None,
        calls=Call.objects.filter(pk__in=ids),
        initial={"call": draft.data.get("call_id") if draft.data.get("call_id") in ids else None},
    )
    if action == "next" and form.is_valid():
        call = form.cleaned_data["call"]
        changes = {"call_id": call.pk}
        if call.pk != draft.data.get("call_id") or not draft.data.get("contact_id"):
            changes["contact_id"] = call.contact_id
            changes["plan_id"] = None
        save_draft(draft, **changes)
        return _next(draft)
    return _render(request, draft, "records", form=form, calls=calls)


def customer_step(request, draft, action):
    contact = intake.chosen_contact(draft.data)
    call = intake.chosen_call(request.user, draft.data)
    number = call.customer_number if call else ""
    add_form = ContactForm(
        request.POST if action == "add" else None,
        initial={"phone": number, "organization": contact.organization_id if contact else None},
    )
    if action == "add" and add_form.is_valid():
        try:
            new = add_contact(NewContact(**add_form.cleaned_data))
        except ValidationError as error:
            add_form.add_error(None, error)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": new.name})
            save_draft(draft, contact_id=new.pk, plan_id=None)
            return _go(draft.step)
    if action == "choose":
        chosen = Contact.objects.filter(pk=_int(request.POST.get("contact"), 0)).first()
        if chosen is not None:
            save_draft(draft, contact_id=chosen.pk, plan_id=None)
        return _go(draft.step)
    if action == "next":
        if contact is not None:
            return _next(draft)
        messages.error(request, _("Choose or add the customer first."))
    query = request.GET.get("q", "").strip()
    colleagues = (
        Contact.objects.filter(organization_id=contact.organization_id).exclude(pk=contact.pk)
        if contact is not None and contact.organization_id
        else Contact.objects.none()
    )
    return _render(
        request,
        draft,
        "customer",
        contact=contact,
        add_form=add_form,
        query=query,
        found=_search_contacts(query),
        colleagues=colleagues[:100],
        show_add=action == "add" or contact is None,
    )


def _search_contacts(query: str):
    if len(query) < 2:
        return []
    matches = Q(name__icontains=query) | Q(emails__address__icontains=query)
    prefix = number_prefix(query)
    if sum(ch.isdigit() for ch in query) >= 3 and prefix:
        matches |= Q(phones__e164__startswith=prefix)
    return list(
        Contact.objects.filter(matches)
        .select_related("organization")
        .distinct()
        .order_by("name")[:CONTACTS_LISTED]
    )


def service_step(request, draft, action):
    contact = intake.chosen_contact(draft.data)
    plans = list(intake.plans_of(contact))
    plan = intake.chosen_plan(draft.data, contact)
    choosable = _scripts_for_plans(plans)
    preferred = scripts.preferred_script(plan or (plans[0] if plans else None))
    initial_script = draft.data.get("script_id") or (preferred.pk if preferred else "")
    form = ServiceForm(
        request.POST or None,
        plans=plans,
        scripts=choosable,
        initial={"plan": plan.pk if plan else "", "script": initial_script},
    )
    if action == "next" and form.is_valid():
        plan_id = int(form.cleaned_data["plan"] or 0) or None
        script = next((s for s in choosable if str(s.pk) == form.cleaned_data["script"]), None)
        run = intake.chosen_run(request.user, draft.data)
        if script is None:
            run = None
        elif run is None or run.script_id != script.pk or run.ended_at is not None:
            run = scripts.start_run(
                script, agent=request.user, call=intake.chosen_call(request.user, draft.data)
            )
        save_draft(
            draft,
            plan_id=plan_id,
            script_id=script.pk if script else None,
            run_id=run.pk if run else None,
        )
        return _next(draft)
    pending = list(intake.pending_tickets(request.user, contact)[:50])
    return _render(
        request,
        draft,
        "service",
        form=form,
        contact=contact,
        plans=[(p, p.logins_visible_to(request.user)) for p in plans],
        plan=plan,
        pending=pending,
    )


def _scripts_for_plans(plans) -> list[CallScript]:
    found: dict[int, CallScript] = {}
    for plan in plans or [None]:
        for script in scripts.scripts_for(plan):
            found.setdefault(script.pk, script)
    return sorted(found.values(), key=lambda script: script.name)


def script_step(request, draft, action):
    run = intake.chosen_run(request.user, draft.data)
    if run is not None and action in ("answer", "previous", "end"):
        try:
            if action == "answer":
                run = scripts.answer_step(run, _int(request.POST.get("option"), 0))
            elif action == "previous":
                scripts.step_back(run)
            else:
                scripts.end_run(run)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if action == "end" or scripts.current_step(run) is None:
                return _next(draft)
        return _go(draft.step)
    if action == "next":
        return _next(draft)
    answers = scripts.answers_of(run) if run else []
    step = scripts.current_step(run, answers) if run else None
    chosen = answers[run.cursor].option_id if run and run.cursor < len(answers) else None
    options = list(step.options.all()) if step else []
    return _render(
        request,
        draft,
        "script",
        run=run,
        script_step=step,
        options=options,
        chosen=chosen,
        answers=answers,
        position=(run.cursor + 1) if run else 0,
    )


def report_step(request, draft, action):
    if action == "next":
        return _next(draft)
    run = intake.chosen_run(request.user, draft.data)
    contact = intake.chosen_contact(draft.data)
    return _render(
        request, draft, "report", run=run, lines=scripts.report_lines(run), contact=contact
    )


def first_contact_step(request, draft, action):
    data = draft.data
    contact = intake.chosen_contact(data)
    call = intake.chosen_call(request.user, data)
    plan = intake.chosen_plan(data, contact)
    run = intake.chosen_run(request.user, data)
    initial = {
        "subject": _("Phone call from %(name)s") % {"name": contact.name} if contact else "",
        "product": plan.product_id if plan else None,
        "pool": call.pool_id if call else None,
    }
    form = FirstContactForm(request.POST or None, initial=initial, agent=request.user)
    if action == "create" and form.is_valid():
        if contact is None:
            messages.error(request, _("Choose or add the customer first."))
            save_draft(draft, step="customer")
            return _go(draft.step)
        try:
            ticket = intake.create_phone_ticket(
                agent=request.user,
                contact=contact,
                call=call if draft.data.get("origin") == intake.ORIGIN_PHONE else None,
                run=run,
                channel=intake.ORIGIN_CHANNELS.get(data.get("origin", ""), Channel.PHONE),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ticket %(number)s created.") % {"number": ticket.number})
            return redirect(reverse("tickets:detail", args=[ticket.number]))
    return _render(
        request,
        draft,
        "first_contact",
        form=form,
        contact=contact,
        plan=plan,
        lines=scripts.report_lines(run),
        pending_count=intake.pending_tickets(request.user, contact).count(),
    )


HANDLERS = {
    "origin": origin_step,
    "filters": filters_step,
    "records": records_step,
    "customer": customer_step,
    "service": service_step,
    "script": script_step,
    "report": report_step,
    "first_contact": first_contact_step,
}
