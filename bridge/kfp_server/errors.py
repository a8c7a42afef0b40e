"""API errors in the JSON shape the KFP API server (grpc-gateway) answers with."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "GRPC_CODES", "error_body"]

# HTTP status -> gRPC code, as grpc-gateway maps them back.
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 412: 9, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}


class ApiError(Exception):
    """An answer other than 2xx, with KFP's error message."""

    def __init__(self, status: int, message: str, *, grpc_code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.grpc_code = grpc_code if grpc_code is not None else GRPC_CODES.get(status, 2)


def error_body(status: int, message: str, grpc_code: int | None = None) -> dict[str, Any]:
    code = grpc_code if grpc_code is not None else GRPC_CODES.get(status, 2)
    return {"error": message, "code": code, "message": message, "details": []}
