"""Forms of the storefront: they validate at the edge, before any door is called."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from ordering.services import BASKET_LIMITS, SubstitutionChoice

from .shopper import POSTCODE_RE, normalize_postcode

ORDERING_CHOICES = [
    ("relevance", "Best match"),
    ("name", "Name"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
]
TIP_CHOICES = [("0", "No tip"), ("2", "$2"), ("3", "$3"), ("5", "$5")]
MAX_QUANTITY = BASKET_LIMITS.max_line_quantity


class NoColon:
    """Labels without a trailing colon (screen readers read it aloud; it adds nothing)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class Form(NoColon, forms.Form):
    pass


class DeliverToForm(Form):
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        help_text="We check which hub delivers there and how fast.",
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "text"}),
    )
    address = forms.CharField(
        label="Street address",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def clean_postcode(self) -> str:
        value = normalize_postcode(self.cleaned_data["postcode"])
        if not POSTCODE_RE.match(value):
            raise forms.ValidationError("Enter a postcode such as 10001 or SW1A 1AA.")
        return value


class ProductFilterForm(Form):
    """Filters of a department listing or a search (all optional, sent with GET)."""

    q = forms.CharField(label="Search", max_length=100, required=False)
    category = forms.ChoiceField(label="Category", required=False, choices=[])
    brand = forms.CharField(label="Brand", max_length=100, required=False)
    price_min = forms.DecimalField(
        label="Min price", min_value=0, max_digits=8, decimal_places=2, required=False
    )
    price_max = forms.DecimalField(
        label="Max price", min_value=0, max_digits=8, decimal_places=2, required=False
    )
    ordering = forms.ChoiceField(label="Sort by", choices=ORDERING_CHOICES, required=False)
    deliverable = forms.BooleanField(label="Only items we can deliver to you", required=False)
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, categories=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", "All categories")] + [(c.slug, c.name) for c in categories]

    def clean(self):
        data = super().clean() or {}
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The maximum price must be at least the minimum.")
        return data


class AddToCartForm(Form):
    sku = forms.CharField(max_length=40, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=MAX_QUANTITY, initial=1)


class QuantityForm(Form):
    quantity = forms.IntegerField(label="Quantity", min_value=0, max_value=MAX_QUANTITY)


class SubstitutionForm(Form):
    """What may stand in for a cart line: a best match, nothing, or one of a few suggested
    products (values "best_match", "none", "sku:<SKU>")."""

    choice = forms.ChoiceField(label="If it is out of stock", choices=[])

    def __init__(self, *args, suggestions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choice = self.fields["choice"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [
            (SubstitutionChoice.BEST_MATCH.value, "Best match, picked by the shopper"),
            *((f"sku:{p.sku}", f"Replace with {p.name} ({p.price})") for p in suggestions),
            (SubstitutionChoice.NONE.value, "No substitute: refund it"),
        ]

    def substitution(self) -> tuple[SubstitutionChoice, str]:
        value = self.cleaned_data["choice"]
        if value.startswith("sku:"):
            return SubstitutionChoice.SPECIFIC, value[4:]
        return SubstitutionChoice(value), ""


class CardNumberInput(forms.TextInput):
    """A card number field that is never filled back in: a form shown again after an error
    asks for the number again rather than echo it into the page (and the browser's cache)."""

    def format_value(self, value: object) -> None:
        return None


class CheckoutForm(Form):
    address = forms.CharField(
        label="Street address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    window = forms.TypedChoiceField(
        label="Delivery window", coerce=int, widget=forms.RadioSelect, choices=[]
    )
    tip = forms.TypedChoiceField(
        label="Tip for your courier",
        choices=TIP_CHOICES,
        coerce=Decimal,
        initial="0",
        widget=forms.RadioSelect,
    )
    card = forms.CharField(
        label="Card number",
        max_length=40,
        widget=CardNumberInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    save_as = forms.CharField(
        label="Save this address as",
        max_length=40,
        required=False,
        help_text='Optional: a name such as "Home" keeps it in your address book.',
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    expected_subtotal = forms.DecimalField(
        max_digits=10, decimal_places=2, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, windows=(), **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4())
        super().__init__(*args, **kwargs)
        window = self.fields["window"]
        assert isinstance(window, forms.ChoiceField)
        window.choices = [(w.value, w.label) for w in windows]

    def clean_card(self) -> str:
        digits = "".join(self.cleaned_data["card"].split()).replace("-", "")
        if not digits:
            raise forms.ValidationError("Enter a card number.")
        return digits


class SignInForm(NoColon, AuthenticationForm):
    pass


class SignUpForm(NoColon, UserCreationForm):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
