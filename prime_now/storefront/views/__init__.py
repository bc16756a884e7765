"""Storefront views: thin; they validate with forms, call doors and render templates."""

from .errors import not_found, server_error

__all__ = ["not_found", "server_error"]
