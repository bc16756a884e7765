"""The storefront's levers (prime_now.kernel.levers). A widget's lever is named after the
widget (`assembly.lever_name`): pulling it renders the widget's placeholder, without calling
its door."""

from prime_now.kernel.levers import Criticality, declare

ALSO_BOUGHT = declare(
    "storefront-also-bought",
    sheds="The product page's 'customers also bought' recommendations (an ordering query).",
    owner="storefront",
    criticality=Criticality.LOW,
)
SEARCH_SUGGESTIONS = declare(
    "storefront-search-suggestions",
    sheds="Search-as-you-type suggestions: the suggestion endpoint answers an empty list "
    "(the search form itself still works).",
    owner="storefront",
    criticality=Criticality.LOW,
)
AVAILABILITY_BADGES = declare(
    "storefront-availability-badges",
    sheds="'Deliverable' badges on listing and search tiles (a stock lookup per page); the "
    "'deliverable only' filter is ignored while pulled.",
    owner="storefront",
    criticality=Criticality.LOW,
)
NEXT_WINDOW = declare(
    "storefront-next-window",
    sheds="The header's next-delivery-window banner on every page (a promise per page view).",
    owner="storefront",
    criticality=Criticality.LOW,
)
IMAGES = declare(
    "storefront-images",
    sheds="Product pictures on storefront pages (the pages render without them).",
    owner="storefront",
    criticality=Criticality.LOW,
)
SIGN_UPS = declare(
    "storefront-sign-ups",
    sheds="New customer sign-ups: the sign-up page says to come back later; existing "
    "customers sign in and buy as usual.",
    owner="storefront",
    criticality=Criticality.HIGH,
)
