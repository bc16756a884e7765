"""Delivery's subscriptions to other apps' events, registered in DeliveryConfig.ready()."""

from . import facade, transport


def register() -> None:
    facade.register()
    transport.register()
