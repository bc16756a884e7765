"""Pessimistic releases: migrations that old code survives, a health-gated canary behind HAProxy,
one-command rollback (docs/operations.md, "Releases")."""
