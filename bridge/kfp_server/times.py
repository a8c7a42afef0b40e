"""Times as the KFP API server writes them (protojson's ``google.protobuf.Timestamp``)."""

from __future__ import annotations

import datetime

__all__ = ["EPOCH_ZERO", "timestamp"]

EPOCH_ZERO = "1970-01-01T00:00:00Z"


def timestamp(value: float | None) -> str:
    """RFC 3339 in UTC as protojson writes it (KFP answers the zero time for 'unset')."""
    if value is None:
        return EPOCH_ZERO
    moment = datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += (
            f".{moment.microsecond // 1000:03d}"
            if moment.microsecond % 1000 == 0
            else f".{moment.microsecond:06d}"
        )
    return text + "Z"
