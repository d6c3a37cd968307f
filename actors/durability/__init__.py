"""What makes a session's work survive a crash: the Ledger that saves each change,
and the Outbox that delivers every message at least once."""

from actors.durability.ledger import Ledger
from actors.durability.outbox import Deliver, Delivery, Outbox

__all__ = ["Deliver", "Delivery", "Ledger", "Outbox"]
