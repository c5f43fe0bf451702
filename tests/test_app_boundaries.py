"""The apps depend in one direction: escalation, mailgateway and automations on tickets
(escalation and automations on integrations too, for calls to other servers), sms on
tickets and integrations, benchmark on them all, never back.
tickets tells the others what happened through its domain events
(tickets.events); they subscribe in their AppConfig.ready()."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "tickets",
    "escalation",
    "mailgateway",
    "integrations",
    "automations",
    "api",
    "billing",
    "reports",
    "sms",
    "processes",
    "benchmark",
    "helpdesk",
)
# What each app may import of the others; anything else is an arrow back.
ALLOWED = {
    "tickets": set(),
    "escalation": {"tickets", "mailgateway", "integrations"},
    "mailgateway": {"tickets"},
    # Calls to other servers, for any app: it knows none of them.
    "integrations": set(),
    # Rules and macros change requests through the workflow, call out through integrations.
    "automations": {"tickets", "integrations"},
    # The API reads through tickets.access, changes requests through the workflow and
    # delivers its webhook subscriptions through integrations.
    "api": {"tickets", "integrations"},
    # Charges and invoices are billing's rows; the request's history through the workflow.
    "billing": {"tickets"},
    # Reports read the requests (and billing's money), change nothing, mail through the outbox.
    "reports": {"tickets", "billing", "mailgateway"},
    # SMS in and out: requests through the workflow, the provider through integrations.
    "sms": {"tickets", "integrations"},
    # Process runs: their requests, articles and events through the workflow.
    "processes": {"tickets"},
    "benchmark": {
        "tickets",
        "escalation",
        "mailgateway",
        "automations",
        "api",
        "reports",
        "helpdesk",
    },
    "helpdesk": {
        "tickets",
        "escalation",
        "mailgateway",
        "integrations",
        "automations",
        "api",
        "billing",
        "reports",
        "sms",
        "processes",
    },
}


def imported_apps(path: Path) -> set[str]:
    """Top-level apps a module imports, wherever the import is (in functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(APPS)


def arrows_back() -> list[str]:
    wrong = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for other in imported_apps(path) - {app} - ALLOWED[app]:
                wrong.append(f"{path.relative_to(ROOT)} imports {other}")
    return wrong


def test_no_app_imports_against_the_direction():
    assert arrows_back() == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from escalation import engine\n")
    assert imported_apps(module) == {"escalation"}
