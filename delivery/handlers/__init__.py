"""Delivery's subscriptions to other apps' events, registered in DeliveryConfig.ready()."""

from . import dispatch, facade


def register() -> None:
    facade.register()
    dispatch.register()
