"""Facts the delivery app publishes (see docs/doors.md)."""
