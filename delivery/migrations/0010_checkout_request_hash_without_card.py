"""Checkouts' request hashes covered the payment token (a card number, when typed): erase them.

The new fingerprint (an HMAC without the token) cannot be computed for them, as the request
is not kept; an erased hash matches a retry with the key, for the day its key still lives.
"""

from django.db import migrations, models


def erase_hashes_of_card_data(apps, schema_editor):
    Checkout = apps.get_model("delivery", "Checkout")
    Checkout.objects.exclude(request_hash="").update(request_hash="")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0009_features22"),
    ]

    operations = [
        migrations.AlterField(
            model_name="checkout",
            name="request_hash",
            field=models.CharField(
                blank=True,
                help_text="HMAC of the request without its payment token; empty for checkouts "
                "from before the card was left out (their hash was erased).",
                max_length=64,
            ),
        ),
        migrations.RunPython(erase_hashes_of_card_data, migrations.RunPython.noop, elidable=True),
    ]
