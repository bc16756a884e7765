"""Storefront views: thin; they validate with forms, call doors and render templates."""

from .errors import healthz, not_found, server_error

__all__ = ["healthz", "not_found", "server_error"]
