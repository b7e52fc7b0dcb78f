"""The bit offsets of the terms words the clients pack, named as in
``contracts/utils/RecordLayout.sol``.

The certificate and credit clients pack their ``terms`` argument with these (``encode_terms``);
the contracts unpack it with the Solidity constants of the same names, and
``tests/contracts/test_layout.py`` checks that both sides agree. The storage records the
contracts pack are not here: Python never packs or unpacks them, it reads them through the
contracts' views.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CERT_TERMS_REGION_SHIFT",
    "CERT_TERMS_TYPE_SHIFT",
    "CREDIT_TERMS_CATEGORY_SHIFT",
    "CREDIT_TERMS_POLARITY_SHIFT",
    "CREDIT_TERMS_SEVERITY_SHIFT",
]

# Certificate terms, low to high: expiresAt 40 | region 24 | certType 32.

#: Offset of the certificate type in certificate terms.
CERT_TERMS_TYPE_SHIFT: Final = 64
#: Offset of the region in certificate terms.
CERT_TERMS_REGION_SHIFT: Final = 40

# Credit terms, low to high: occurredAt 40 | severity 8 | polarity 8 | category 32.

#: Offset of the credit category in credit terms.
CREDIT_TERMS_CATEGORY_SHIFT: Final = 56
#: Offset of the polarity in credit terms.
CREDIT_TERMS_POLARITY_SHIFT: Final = 48
#: Offset of the severity in credit terms.
CREDIT_TERMS_SEVERITY_SHIFT: Final = 40
