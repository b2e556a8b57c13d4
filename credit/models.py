"""Models of the credit app, one module per sub-domain. Django looks for ``credit.models``:
importing the packages' models here registers them with the app. The enterprise models are also
named here (most callers want them by ``credit.models``); the ledger's and the policies' are
imported from their packages (``credit.ledger.models``, ``credit.policies.models``)."""

import credit.ledger.models  # noqa: F401  (registers the models)
import credit.policies.models  # noqa: F401  (registers the models)
from credit.enterprises.models import Enterprise, EnterpriseProfileChange, Membership

__all__ = ["Enterprise", "EnterpriseProfileChange", "Membership"]
