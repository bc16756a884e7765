"""The in-app notification list and the email preferences on the storefront."""

import pytest

from notifications import services as notifications
from tests.kernel.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
K = notifications.NotificationKind


def tell(user_id, key="PN-AAAA-BBBB:packed", title="Order PN-AAAA-BBBB is packed"):
    notifications.notify(
        message=notifications.Message(
            user_id=user_id,
            kind=K.PACKED,
            key=key,
            title=title,
            body="Your order is packed.",
            order_number="PN-AAAA-BBBB",
        )
    )


def test_the_list_shows_my_notifications_newest_first_with_the_unread_marked(signed_in, shopper):
    tell(shopper.pk, key="a", title="First")
    tell(shopper.pk, key="b", title="Second")
    tell(UserFactory().pk, key="c", title="Someone else's")

    html = signed_in.get("/notifications/").content.decode()

    assert html.index("Second") < html.index("First")
    assert "Someone else&#x27;s" not in html and "Someone else's" not in html
    assert "Mark all 2 as read" in html


def test_marking_all_read_clears_the_unread(signed_in, shopper):
    tell(shopper.pk)

    signed_in.post("/notifications/read/")

    assert notifications.notifications_unread(user_id=shopper.pk) == 0


def test_turning_email_off_is_saved(signed_in, shopper):
    response = signed_in.post(
        "/notifications/preferences/", {"email_muted": ["delivered"]}, follow=True
    )

    assert "Your notification preferences are saved." in response.content.decode()
    preference = notifications.preferences_get(user_id=shopper.pk)
    assert preference.email is False and preference.email_muted == (K.DELIVERED,)


def test_the_list_needs_a_signed_in_customer(visitor):
    assert visitor.get("/notifications/").status_code == 302
