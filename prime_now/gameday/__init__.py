"""Game days: rehearse failures against a running stack (manage.py gameday, docs/runbook.md)."""
