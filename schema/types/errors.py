from __future__ import annotations

import strawberry

from core.errors import DomainError, ErrorCode

ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode", description="Stable error codes.")


@strawberry.type(description="An expected failure of a mutation, safe to show to the shopper.")
class UserError:
    field: str | None = strawberry.field(
        description="Path of the input field at fault, e.g. `quantity`, when there is one."
    )
    message: str
    code: ErrorCodeEnum  # type: ignore[valid-type]

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)
