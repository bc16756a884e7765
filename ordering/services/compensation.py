"""Payment compensation: an authorization no order holds is voided, never left on the card.

A checkout that authorized the payment and then did not end placed (a later step failed, its
transaction rolled back, its process died) leaves a hold with no order. The checkout voids it
at once (`authorization_void`); what a dead process left behind, reconciliation voids
(`authorizations_orphaned_void`). An authorization an order holds is never voided here.
"""

import logging
from datetime import datetime

from ..models import Payment
from ..payments import ProviderRefused, ProviderUnavailable, provider_get

logger = logging.getLogger(__name__)


def authorization_void(*, reference: str) -> bool:
    """Void this authorization unless an order holds it. True when it was voided; False when
    an order holds it or the provider does not know it (it was written in the order's own
    rolled-back transaction, as the sandbox's are). ProviderUnavailable propagates (the
    reconciliation will try again)."""
    if not reference or Payment.objects.filter(reference=reference).exists():
        return False
    try:
        provider_get().void(reference=reference)
    except ProviderRefused:
        return False
    logger.info("ordering: voided authorization %s, which no order holds", reference)
    return True


def authorizations_orphaned_void(*, created_before: datetime, page: int = 500) -> int:
    """Void the authorizations made before this time that no order holds; how many. Reads
    the provider's list of open authorizations page after page to its end: the holds of live
    orders (thousands on a busy day) never hide an older orphan behind them."""
    voided = 0
    provider = provider_get()
    after = ""
    while references := provider.open_authorizations(
        created_before=created_before, limit=page, starting_after=after
    ):
        held = set(
            Payment.objects.filter(reference__in=references).values_list("reference", flat=True)
        )
        for reference in references:
            if reference in held:
                continue
            try:
                voided += authorization_void(reference=reference)
            except ProviderUnavailable:
                logger.warning("ordering: provider unavailable, %s stays for later", reference)
        if len(references) < page:
            break
        after = references[-1]
    return voided
