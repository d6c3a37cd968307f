"""The ServicerPool: servicers' statuses, seats, the queue, and who gets whom."""

from actors.pool.actor import ServicerPool

__all__ = ["ServicerPool"]
