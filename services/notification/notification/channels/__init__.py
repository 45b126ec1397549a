"""The channels messages leave by, each a real protocol behind :class:`Channel`."""

from notification.channels.base import (
    Channel,
    Delivery,
    PermanentFailure,
    Sent,
    TransientFailure,
)

__all__ = ["Channel", "Delivery", "PermanentFailure", "Sent", "TransientFailure"]
