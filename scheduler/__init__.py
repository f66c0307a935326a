"""Schedules, the outbox and the delivery worker (imports `bot` only; reaches adapters via ports)."""

from scheduler.service import DeliveryService

__all__ = ["DeliveryService"]
