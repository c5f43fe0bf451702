"""The few SQL pieces the reports need that Django does not ship, each portable or with
its PostgreSQL and SQLite spelling side by side."""

from decimal import Decimal

from django.db.models import Aggregate, DecimalField, Expression, FloatField, Func


class SecondsBetween(Func):
    """Seconds from `start` to `end` as a float; NULL when either is NULL, so aggregates
    skip the requests it does not apply to (no reply yet, not closed)."""

    arity = 2
    output_field = FloatField()
    # EXTRACT gives numeric; percentile_cont orders double precision.
    template = "EXTRACT(EPOCH FROM (%(expressions)s))::double precision"
    arg_joiner = " - "

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)  # the template subtracts in this order

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores datetimes as UTC text that julianday() reads, fractions included.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile: percentile_cont(f) WITHIN GROUP (ORDER BY x),
    interpolating between the two nearest values (the median of 1 and 2 is 1.5)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction lies between 0 and 1.")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """percentile_cont in Python, for SQLite: the same interpolation as PostgreSQL."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * weight


class Hundred(Expression):
    """The number 100 in money arithmetic. SQLite stores a decimal that is whole (10.00)
    as an integer and would divide integers (10 / 100 = 0); 100.0 is a real there.
    PostgreSQL keeps numeric exact with a plain 100."""

    output_field = DecimalField(max_digits=3, decimal_places=0)

    def as_sql(self, compiler, connection):
        return "100", []

    def as_sqlite(self, compiler, connection):
        return "100.0", []


ZERO = Decimal(0)
