"""Domain errors: the one vocabulary of expected failures, free of GraphQL.

Services raise `DomainError` (or a subclass) with a stable `ErrorCode`. The GraphQL layer
turns them into either a payload's `userErrors` (mutations) or a GraphQL error whose
`extensions.code` is the code (queries). Anything else is a bug and is masked.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # Request-level (GraphQL errors)
    BAD_REQUEST = "BAD_REQUEST"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_CURSOR = "INVALID_CURSOR"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # The database is unreachable or shedding load: nothing was written, retry shortly.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # Persisted documents (web/persisted_documents.py)
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    # Business rules (mostly payload userErrors)
    INVALID_INPUT = "INVALID_INPUT"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    PRODUCT_INACTIVE = "PRODUCT_INACTIVE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    CART_EMPTY = "CART_EMPTY"
    CART_FULL = "CART_FULL"
    CART_ITEM_NOT_FOUND = "CART_ITEM_NOT_FOUND"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    AR_NOT_SUPPORTED = "AR_NOT_SUPPORTED"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    UNKNOWN_EVENT = "UNKNOWN_EVENT"


class DomainError(Exception):
    """An expected failure with a stable code, a human message and optionally the input field."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def extensions(self) -> dict[str, str]:
        # graphql-core copies `extensions` of the original error onto the GraphQL error.
        return {"code": self.code.value}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.message!r}, field={self.field!r})"


class DomainErrors(DomainError):
    """Several expected failures at once (e.g. every cart line checkout cannot fill), so the
    shopper can fix them all in one go. Takes the code and message of the first."""

    def __init__(self, errors: list[DomainError]) -> None:
        if not errors:
            raise ValueError("DomainErrors needs at least one error")
        first = errors[0]
        super().__init__(first.code, first.message, field=first.field)
        self.errors = list(errors)


class InvalidInput(DomainError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(ErrorCode.BAD_USER_INPUT, message, field=field)


class NotFound(DomainError):
    def __init__(self, message: str = "Not found", *, field: str | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message, field=field)


class Unauthenticated(DomainError):
    def __init__(self, message: str = "Sign in required") -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, message)


class Forbidden(DomainError):
    def __init__(self, message: str = "Not allowed") -> None:
        super().__init__(ErrorCode.FORBIDDEN, message)
