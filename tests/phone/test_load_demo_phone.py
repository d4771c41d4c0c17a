from io import StringIO

from django.core.management import call_command

from phone import scripts
from phone.models import CallScript, PbxIntegration, Plan
from phone.services import authenticate_pbx


def test_the_demo_phone_desk_loads_once_with_a_working_token_and_a_branching_script(db):
    call_command("load_demo", tickets=4, seed=7, stdout=StringIO())
    out = StringIO()
    call_command("load_demo_phone", stdout=out)
    token = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert authenticate_pbx(token) == PbxIntegration.objects.get()
    plan = Plan.objects.get()
    assert plan.routing_points.count() == 2 and plan.access_logins.count() == 2
    script = CallScript.objects.get()
    first = script.first_step
    assert {option.next_step.title for option in first.options.all()} == {
        "Reinício",
        "Cabo da fibra",
    }
    assert scripts.preferred_script(plan) == script
    call_command("load_demo_phone", stdout=StringIO())
    assert CallScript.objects.count() == 1
