"""The delivery façade's private modules: the promise, windows, checkout, tracking (the door is
delivery.services)."""
