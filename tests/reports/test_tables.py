"""A report's rows and its chart are written in Python for speed: they must read as the
templates wrote them."""

from datetime import date, timedelta
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from reports.tables import Table
from tickets.views.desk.dashboard import created_vs_closed

AS_THE_TEMPLATE_DID = Template(
    "{% for row in rows %}<tr>{% for cell in row %}<td>{% if cell is None %}—{% else %}"
    "{{ cell }}{% endif %}</td>{% endfor %}</tr>{% endfor %}"
)


def test_rows_read_as_the_template_wrote_them():
    rows = [
        [date(2026, 12, 7), 3, None, Decimal("12.50"), 0.4, "Tom & <Jerry>"],
        ["", 0, 1, Decimal("0"), None, "Northwind"],
    ]
    for language in ("en", "de"):
        with translation.override(language):
            expected = AS_THE_TEMPLATE_DID.render(Context({"rows": rows}))
            assert Table("t", list("abcdef"), rows).html_rows(10) == expected
    assert "&lt;Jerry&gt;" in expected


def test_only_the_shown_rows_are_written():
    table = Table("t", ["n"], [[n] for n in range(300)])
    assert table.html_rows(200).count("<tr>") == 200


def test_the_chart_draws_two_bars_a_day_and_labels_every_fifth():
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    marks = created_vs_closed({days[0]: 4}, {days[-1]: 2}, days).marks()
    assert marks.count("<rect") == 730 and marks.count("<text") == 73
    assert "<title>Thu 1 Jan: 4 created</title>" in marks
    assert "<title>Thu 31 Dec: 2 closed</title>" in marks
