"""The documents the load test sends, as persisted ids: the server runs in prod mode, where
only trusted documents run (OPERATIONS=trusted).

Most are the reference client's own (client/persisted-documents.json). The few a day in
the shop needs and the client does not have yet (a product page, cancelling an order, an
admin stock change) are written here and trusted through a second manifest, which the
runner passes in PERSISTED_DOCUMENTS_FILES next to the client's.

This module imports nothing of the app: the Locust processes load it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT_MANIFEST = ROOT / "client" / "persisted-documents.json"
CLIENT_OPERATIONS = (
    "Catalog", "Recommendations", "Me", "Cart", "AddToCart", "RecordInteraction", "Checkout",
    "OrderStatusChanged",
)  # fmt: skip

OWN = {
    "ProductPage": """query ProductPage($id: ID!) {
  product(id: $id) {
    id name description brand category imageUrl images inStock inventory arEnabled
    price { amount currency } stats { views ticks crosses cartAdds purchases }
  }
}""",
    "CancelOrder": """mutation CancelOrder($id: ID!) {
  cancelOrder(id: $id) { order { id status } userErrors { code field message } }
}""",
    "AdjustInventory": """mutation AdjustInventory($productId: ID!, $delta: Int!) {
  adjustInventory(productId: $productId, delta: $delta) {
    product { id inventory } userErrors { code field message }
  }
}""",
}


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _operation_name(text: str) -> str | None:
    found = re.search(r"\b(?:query|mutation|subscription)\s+(\w+)", text)
    return found.group(1) if found else None


def documents() -> dict[str, str]:
    """Operation name -> document text, the client's and ours."""
    out = {}
    for text in json.loads(CLIENT_MANIFEST.read_text()).values():
        name = _operation_name(text)
        if name in CLIENT_OPERATIONS:
            out[name] = text
    missing = set(CLIENT_OPERATIONS) - set(out)
    if missing:
        raise RuntimeError(f"not in the client's manifest: {sorted(missing)}")
    return {**out, **OWN}


def write_own_manifest(path: Path) -> Path:
    """The manifest of the documents written here (hash -> text), for the server to trust."""
    path.write_text(json.dumps({document_id(text): text for text in OWN.values()}, indent=2))
    return path


IDS = {name: document_id(text) for name, text in documents().items()}
