from . import facade, transport  # noqa: F401
