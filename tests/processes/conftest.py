import pytest

from processes import runs
from processes.management.commands.seed_processes import STEPS
from processes.models import ProcessStep
from tests.factories import ProcessFactory, ProcessStepFactory, TeamFactory

WHO = {"employee": "Nina New", "start_date": "2025-09-01", "role": "Developer"}
HARDWARE = {"model": "x1", "accessories": "Dock"}


@pytest.fixture
def team(agent):
    """The IT team, the `agent` a member."""
    team = TeamFactory(name="IT")
    agent.groups.add(team)
    return team


@pytest.fixture
def laptop(portal_queue, team):
    """The demo's process: the customer's step, IT's (approved), the customer's."""
    process = ProcessFactory(name="New employee laptop", queue=portal_queue)
    for position, spec in enumerate(STEPS, start=1):
        ProcessStepFactory(
            process=process,
            position=position,
            team=team if spec["actor"] == ProcessStep.Actor.TEAM else None,
            **spec,
        )
    return process


@pytest.fixture
def run(laptop, customer):
    return runs.start_process(laptop, contact=customer)


def step(run, position):
    return run.process.steps.get(position=position)
