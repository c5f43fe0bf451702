import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
IMPORTS_BENCHMARK = re.compile(r"^\s*(from|import) benchmark\b", re.MULTILINE)


def test_no_domain_app_imports_the_benchmark():
    importing = [
        str(path.relative_to(ROOT))
        for app in ("tickets", "escalation", "mailgateway", "helpdesk")
        for path in (ROOT / app).rglob("*.py")
        if IMPORTS_BENCHMARK.search(path.read_text(encoding="utf-8"))
    ]
    assert importing == []
