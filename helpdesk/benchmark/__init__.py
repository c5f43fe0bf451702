"""`manage.py bench`: every figure of the performance issue from one command.

The measuring lives beside what it measures: the desk's and portal's pages here
(pages.py), the list under concurrent load here (load.py), mail ingestion in
mailgateway's bench_mail and the sweep in escalation's bench_escalation. report.py
turns the figures into the Markdown table in docs/performance.md.
"""
