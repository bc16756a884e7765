"""Roles are Django groups: one user may hold several (a picker can also be a customer)."""

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    COURIER = "courier"
    PICKER = "picker"
    OPERATOR = "operator"
