"""The admin's checks of a process's steps, the read-only runs, and the demo's process."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from processes.models import Process, validate_fields, validate_next_if
from tests.factories import AdminFactory, QueueFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "x"}, "must be a list"),
        ([{"name": "bad name"}], "needs a name of letters"),
        ([{"name": "a"}, {"name": "a"}], "is used twice"),
        ([{"name": "a", "type": "colour"}], "the type must be one of"),
        ([{"name": "a", "type": "choice"}], "a choice needs choices"),
        ([{"name": "a", "choices": ["x"]}], "only a choice field has choices"),
        ([{"name": "a", "colour": "red"}], "unknown keys colour"),
    ],
)
def test_a_steps_fields_are_checked_with_clear_errors(fields, error):
    with pytest.raises(ValidationError, match=error):
        validate_fields(fields)


def test_a_branch_names_a_field_a_value_and_a_position():
    validate_next_if({"field": "a", "equals": "no", "go_to_position": 3})
    with pytest.raises(ValidationError, match="go_to_position"):
        validate_next_if({"field": "a", "equals": "no", "go_to_position": "three"})


def admin_post(process_queue, **step):
    data = {
        "name": "Onboarding",
        "description": "",
        "queue": process_queue.pk,
        "is_active": "on",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1",
        "steps-0-name": "Ask",
        "steps-0-actor": "agent",
        "steps-0-fields": '[{"name": "a", "type": "text"}]',
        "steps-0-next_if": "{}",
    }
    return data | {f"steps-0-{k}": v for k, v in step.items()}


def test_the_admin_refuses_bad_fields_and_a_branch_to_nowhere(client):
    client.force_login(AdminFactory())
    queue = QueueFactory()
    page = client.post("/admin/processes/process/add/", admin_post(queue, fields='[{"type": 1}]'))
    assert "needs a name of letters" in page.content.decode()
    branch = '{"field": "a", "equals": "x", "go_to_position": 7}'
    page = client.post("/admin/processes/process/add/", admin_post(queue, next_if=branch))
    assert "branches to step 7, which the process does not have" in page.content.decode()
    assert not Process.objects.exists()
    answer = client.post("/admin/processes/process/add/", admin_post(queue))
    assert answer.status_code == 302
    assert Process.objects.get().steps.count() == 1


def test_runs_are_read_only_in_the_admin(client, run):
    client.force_login(AdminFactory())
    assert client.get("/admin/processes/processrun/").status_code == 200
    page = client.get(f"/admin/processes/processrun/{run.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.get("/admin/processes/processrun/add/").status_code == 403


def test_the_demo_process_is_seeded_once():
    QueueFactory(name="Support")
    call_command("seed_processes")
    call_command("seed_processes")
    process = Process.objects.get()
    assert process.name == "New employee laptop"
    assert [(s.position, s.actor, s.needs_approval) for s in process.steps.all()] == [
        (1, "customer", False),
        (2, "team", True),
        (3, "customer", False),
    ]
