# The sweep on seeded data runs on the escalation tests' chain of levels.
from tests.escalation.conftest import chain, medium  # noqa: F401
