from . import dispatch, facade  # noqa: F401
