import pytest
from django.core.exceptions import ValidationError

from phone import scripts
from phone.models import ScriptOption


def option(step, label):
    return ScriptOption.objects.get(step=step, label=label).pk


@pytest.fixture
def run(branching_script, agent):
    return scripts.start_run(branching_script, agent=agent)


def titles(run):
    return [(a.step.title, a.answer) for a in scripts.answers_of(run)]


def test_a_run_starts_at_the_first_step(run):
    assert scripts.current_step(run).title == "Light"


def test_each_answer_leads_to_its_own_next_step(run):
    light = scripts.current_step(run)
    run = scripts.answer_step(run, option(light, "Yes"))
    assert scripts.current_step(run).title == "Restart"


def test_the_other_answer_takes_the_other_branch(run):
    light = scripts.current_step(run)
    run = scripts.answer_step(run, option(light, "No"))
    assert scripts.current_step(run).title == "Cable"


def test_an_answer_without_next_step_ends_the_path(run):
    run = scripts.answer_step(run, option(scripts.current_step(run), "No"))
    run = scripts.answer_step(run, option(scripts.current_step(run), "Yes"))
    assert scripts.current_step(run) is None
    assert titles(run) == [("Light", "No"), ("Cable", "Yes")]


def test_previous_shows_the_earlier_step_and_keeps_the_answers(run):
    run = scripts.answer_step(run, option(scripts.current_step(run), "Yes"))
    run = scripts.step_back(run)
    assert scripts.current_step(run).title == "Light"
    assert titles(run) == [("Light", "Yes")]


def test_the_same_answer_again_keeps_the_later_answers(run):
    light = scripts.current_step(run)
    run = scripts.answer_step(run, option(light, "Yes"))
    run = scripts.answer_step(run, option(scripts.current_step(run), "No"))
    run = scripts.step_back(scripts.step_back(run))
    run = scripts.answer_step(run, option(light, "Yes"))
    assert titles(run) == [("Light", "Yes"), ("Restart", "No")]
    assert scripts.current_step(run).title == "Restart"


def test_changing_an_earlier_answer_discards_the_answers_after_it(run):
    light = scripts.current_step(run)
    run = scripts.answer_step(run, option(light, "Yes"))
    run = scripts.answer_step(run, option(scripts.current_step(run), "No"))
    run = scripts.step_back(scripts.step_back(run))
    run = scripts.answer_step(run, option(light, "No"))
    assert titles(run) == [("Light", "No")]
    assert scripts.current_step(run).title == "Cable"


def test_an_option_of_another_step_is_refused(run):
    light = scripts.current_step(run)
    restart = light.options.get(label="Yes").next_step
    with pytest.raises(ValidationError):
        scripts.answer_step(run, option(restart, "Yes"))
    assert titles(run) == []


def test_ending_at_once_leaves_an_empty_report(run):
    run = scripts.end_run(run)
    assert run.ended_at is not None
    assert scripts.current_step(run) is None
    assert scripts.report_lines(run) == []
    assert scripts.report_text(run) == ""


def test_ending_midway_keeps_the_answers_given(run):
    run = scripts.answer_step(run, option(scripts.current_step(run), "No"))
    run = scripts.end_run(run)
    assert scripts.report_lines(run) == [("Is the modem light on?", "No")]
    text = scripts.report_text(run)
    assert "Internet down" in text and "Is the modem light on?" in text and "No" in text


def test_the_report_keeps_the_question_asked_when_the_script_changes_later(run):
    light = scripts.current_step(run)
    run = scripts.answer_step(run, option(light, "Yes"))
    light.question = "Rewritten question"
    light.save()
    assert scripts.report_lines(run)[0][0] == "Is the modem light on?"


def test_scripts_offered_are_the_plans_its_products_and_the_topics(branching_script, plan):
    from phone.models import CallScript
    from tests.factories import TopicFactory
    from tickets.models import Product

    by_product = CallScript.objects.create(
        name="Fiber generic", product=plan.product, first_step=branching_script.first_step
    )
    by_topic = CallScript.objects.create(
        name="Billing", topic=TopicFactory(), first_step=branching_script.first_step
    )
    other = CallScript.objects.create(
        name="Other product",
        product=Product.objects.create(name="PBX"),
        first_step=branching_script.first_step,
    )
    assert set(scripts.scripts_for(plan)) == {branching_script, by_product, by_topic}
    assert other not in set(scripts.scripts_for(plan))
    assert scripts.preferred_script(plan) == branching_script
