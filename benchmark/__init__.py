"""The benchmarks and the bulk load, in an app of their own: they measure and fill
tickets, escalation and mailgateway at once, so they belong to none of them (and none of
them imports this app).

`manage.py bench` gives every figure of the performance issue from one command: the
desk's and portal's pages (pages.py), the list under concurrent load (load.py), mail
ingestion (the bench_mail command) and the sweep (the bench_escalation command); report.py
turns the figures into the Markdown table in docs/performance.md. `manage.py seed_bulk`
fills the database for them (bulk.py).
"""
