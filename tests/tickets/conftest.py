import pytest

from tests.factories import PortalContactFactory, PriorityRuleFactory, QueueFactory


@pytest.fixture
def portal_queue(agent):
    """A queue open to the portal that the `agent` works."""
    PriorityRuleFactory()
    queue = QueueFactory(name="Help", stages=["Triage", "Investigating"], is_open_to_portal=True)
    queue.members.add(agent)
    return queue


@pytest.fixture
def customer(db):
    """A contact with a portal login."""
    return PortalContactFactory(name="Carla Customer", email="carla@example.test")


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer.user)
    return client
