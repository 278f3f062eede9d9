from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PersistedDocument(Model):
    """A trusted GraphQL document, by the SHA-256 of its text (added by shop documents add)."""

    id = fields.IntField(primary_key=True)
    # Lower-case hex SHA-256 of `body` (UTF-8): the id clients send.
    hash = fields.CharField(max_length=64, unique=True)
    body = fields.TextField()
    # Where it came from: the manifest file name given to the command.
    source = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "persisted_documents"
