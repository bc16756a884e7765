"""Facts the notifications app publishes: none yet (it only listens; see handlers.py)."""
