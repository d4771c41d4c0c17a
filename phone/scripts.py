"""Running a call script: answers in order, branching, going back, ending at any time.

A run keeps the answers given as rows numbered 0, 1, 2...; ``cursor`` is the position on
screen. Previous moves the cursor back and keeps the answers; answering at the cursor with
the answer already there moves on along the same path, and a different answer discards
every answer after it (they belonged to the other branch).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from phone.models import CallScript, Plan, ScriptAnswer, ScriptOption, ScriptRun, ScriptStep


def scripts_for(plan: Plan | None):
    """The active scripts an operator may run: the plan's, its product's, and every topic's."""
    wanted = Q(topic__isnull=False)
    if plan is not None:
        wanted |= Q(plan=plan) | Q(plan__isnull=True, product=plan.product_id)
    return (
        CallScript.objects.filter(active=True, first_step__isnull=False)
        .filter(wanted)
        .select_related("plan", "product", "topic")
    )


def preferred_script(plan: Plan | None) -> CallScript | None:
    """The plan's own script, else its product's; None when neither exists."""
    if plan is None:
        return None
    scripts = list(scripts_for(plan).filter(Q(plan=plan) | Q(product=plan.product_id)))
    scripts.sort(key=lambda script: (script.plan_id != plan.pk, script.name))
    return scripts[0] if scripts else None


@transaction.atomic
def start_run(script: CallScript, *, agent, call=None) -> ScriptRun:
    """A new run of ``script`` at its first step."""
    return ScriptRun.objects.create(script=script, agent=agent, call=call)


def answers_of(run: ScriptRun) -> list[ScriptAnswer]:
    return list(run.answers.order_by("position"))


def current_step(run: ScriptRun, answers: list[ScriptAnswer] | None = None) -> ScriptStep | None:
    """The step on screen; None when the path has reached its end (or the run ended)."""
    if run.ended_at is not None:
        return None
    answers = answers_of(run) if answers is None else answers
    if run.cursor < len(answers):
        return answers[run.cursor].step
    if not answers:
        return run.script.first_step
    last = answers[-1].option
    return last.next_step if last is not None else None


@transaction.atomic
def answer_step(run: ScriptRun, option_id: int) -> ScriptRun:
    """Record the answer at the cursor and move on along its branch.

    The same answer as before keeps the later answers; another one discards them.
    """
    run = ScriptRun.objects.select_for_update().select_related("script").get(pk=run.pk)
    answers = answers_of(run)
    step = current_step(run, answers)
    if step is None:
        raise ValidationError(_("The script has no further step."))
    option = ScriptOption.objects.filter(pk=option_id, step=step).first()
    if option is None:
        raise ValidationError(_("Choose one of the answers."))
    at = run.cursor
    if at < len(answers) and answers[at].option_id == option.pk:
        run.cursor = at + 1
    else:
        run.answers.filter(position__gte=at).delete()
        ScriptAnswer.objects.create(
            run=run,
            position=at,
            step=step,
            option=option,
            question=step.question,
            answer=option.label,
        )
        run.cursor = at + 1
    run.save(update_fields=["cursor"])
    return run


@transaction.atomic
def step_back(run: ScriptRun) -> ScriptRun:
    """Show the previous step again, its answer still chosen (an ended run resumes)."""
    run = ScriptRun.objects.select_for_update().get(pk=run.pk)
    if run.cursor > 0:
        run.cursor -= 1
        run.ended_at = None
        run.save(update_fields=["cursor", "ended_at"])
    return run


@transaction.atomic
def end_run(run: ScriptRun) -> ScriptRun:
    """End the script now, with the answers given so far (possibly none). Safe to re-run."""
    ScriptRun.objects.filter(pk=run.pk, ended_at__isnull=True).update(ended_at=timezone.now())
    run.refresh_from_db()
    return run


def report_lines(run: ScriptRun | None) -> list[tuple[str, str]]:
    """(question, answer) pairs of the run, in the order asked."""
    if run is None:
        return []
    return [(answer.question, answer.answer) for answer in answers_of(run)]


def report_text(run: ScriptRun | None) -> str:
    """The script report as the ticket's internal note ("" when nothing was answered)."""
    lines = report_lines(run)
    if not lines or run is None:
        return ""
    parts = [_("Call script: %(name)s") % {"name": run.script.name}, ""]
    for number, (question, answer) in enumerate(lines, start=1):
        parts += [f"{number}. {question}", f"   → {answer}"]
    return "\n".join(parts)
