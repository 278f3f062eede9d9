"""Prepared documents: parsed and validated once, then found by hash (or by their text).

`DocumentRegistry.get(hash)` is the one way from a document id to a document ready to
execute: a `PreparedDocument` holds the parsed AST of a text that passed the very checks a
request would (the token limit, the depth/alias/directive limits and graphql-core's
validation with this schema's rules), so a request for it skips parsing and validation.
Two kinds live here:

- trusted documents: registered persisted documents (manifest files, `shop documents add`),
  kept for the life of the process; with OPERATIONS=trusted nothing else runs;
- automatic ones: documents registered by automatic persisted queries (APQ) in
  OPERATIONS=any, kept in a bounded LRU per process (a cache, as APQ intends, not a list).

`PersistedDocumentParser` is the schema extension that hands the prepared AST to
execution, and in trusted mode refuses any other document even if a transport forgot to.
The estimated cost is still checked per request (it depends on the variables), from the
schema's per-document memo of measures (schema/document_cache.py).

To attach more work done once per document (such as compiling it), extend
`PreparedDocument` and `DocumentRegistry.prepare`: every path to a prepared document goes
through `prepare`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from schema.limits import QueryLimits, limit_errors, measure
from schema.validation import validate_document
from services.documents import document_hash

TRUSTED_DOCUMENT_REQUIRED_MESSAGE = (
    "This API runs trusted documents only: send the documentId of a registered document"
)
# What a refused document is replaced with, one per operation type a transport may allow
# (see PersistedDocumentParser.on_parse). Never validated nor executed.
_REFUSED_PLACEHOLDERS = {
    kind: parse(f"{kind.value} TrustedDocumentRequired {{ __typename }}")
    for kind in (OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION)
}


def trusted_document_required() -> GraphQLError:
    """The one error for a document that is not a trusted one: it names nothing."""
    return GraphQLError(
        TRUSTED_DOCUMENT_REQUIRED_MESSAGE,
        extensions={"code": ErrorCode.TRUSTED_DOCUMENT_REQUIRED.value},
    )


@dataclass(frozen=True, slots=True)
class OperationSummary:
    name: str | None
    type: OperationType


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document that passed parsing, the static limits and validation, by its hash."""

    hash: str  # hex SHA-256 of `text`
    text: str
    document: DocumentNode
    operations: tuple[OperationSummary, ...]
    source: str

    @property
    def document_id(self) -> str:
        return f"sha256:{self.hash}"


class DocumentRejected(Exception):
    """A document that cannot be prepared: its errors say why (with full detail: this is
    for whoever registers documents, not for anonymous clients)."""

    def __init__(self, digest: str, errors: list[GraphQLError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.hash = digest
        self.errors = errors


class DocumentRegistry:
    """Trusted and automatic prepared documents of one schema (one per app)."""

    def __init__(
        self,
        *,
        limits: QueryLimits,
        max_tokens: int,
        introspection: bool,
        hide_suggestions: bool,
        automatic_size: int,
    ) -> None:
        self.limits = limits
        self.max_tokens = max_tokens
        self.hide_suggestions = hide_suggestions
        # The same rules a request is validated with (Strawberry's defaults, plus the
        # introspection rule that DisableIntrospection adds when introspection is off).
        rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
        if not introspection:
            rules = (*rules, NoSchemaIntrospectionCustomRule)
        self.rules = rules
        self.automatic_size = automatic_size
        self._schema: GraphQLSchema | None = None
        self._trusted: dict[str, PreparedDocument] = {}
        self._trusted_texts: dict[str, PreparedDocument] = {}
        self._automatic: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._automatic_texts: dict[str, PreparedDocument] = {}

    def bind(self, schema: GraphQLSchema) -> None:
        self._schema = schema

    # --- preparing --------------------------------------------------------------------

    def prepare(self, text: str, *, source: str) -> PreparedDocument:
        """Parse and validate `text` as a request would be; raises DocumentRejected."""
        if self._schema is None:
            raise RuntimeError("the registry is not bound to a schema yet")
        digest = document_hash(text)
        try:
            document = parse(text, max_tokens=self.max_tokens)
        except GraphQLError as error:
            raise DocumentRejected(digest, [error]) from error
        try:
            found = measure(self._schema, document, self.limits)
        except RecursionError as error:
            too_deep = GraphQLError("Fragments are nested too deeply")
            raise DocumentRejected(digest, [too_deep]) from error
        # The cost depends on the variables of each request: it is checked at run time.
        errors = [e for e in limit_errors(found, self.limits) if e.extensions["limit"] != "cost"]
        if not errors:
            errors = validate_document(self._schema, document, self.rules, self.hide_suggestions)
        if errors:
            raise DocumentRejected(digest, list(errors))
        operations = tuple(
            OperationSummary(d.name.value if d.name else None, d.operation)
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        )
        return PreparedDocument(
            hash=digest, text=text, document=document, operations=operations, source=source
        )

    def trust(self, text: str, *, source: str) -> PreparedDocument:
        """Prepare a document and keep it as trusted (idempotent)."""
        known = self._trusted_texts.get(text)
        if known is not None:
            return known
        prepared = self.prepare(text, source=source)
        self._trusted[prepared.hash] = prepared
        self._trusted_texts[prepared.text] = prepared
        return prepared

    def remember(self, text: str) -> PreparedDocument | None:
        """APQ registration: keep a valid document in the bounded automatic cache. An
        invalid one is not kept (the request then reports its errors as usual)."""
        known = self.by_text(text)
        if known is not None or self.automatic_size == 0:
            return known
        try:
            prepared = self.prepare(text, source="apq")
        except DocumentRejected:
            return None
        self._automatic[prepared.hash] = prepared
        self._automatic_texts[prepared.text] = prepared
        while len(self._automatic) > self.automatic_size:
            _digest, evicted = self._automatic.popitem(last=False)
            del self._automatic_texts[evicted.text]
        return prepared

    # --- finding ------------------------------------------------------------------------

    def trusted(self, digest: str) -> PreparedDocument | None:
        return self._trusted.get(digest)

    def get(self, digest: str) -> PreparedDocument | None:
        """The prepared document with this hash: trusted, else automatic (APQ)."""
        prepared = self._trusted.get(digest)
        if prepared is None:
            prepared = self._automatic.get(digest)
            if prepared is not None:
                self._automatic.move_to_end(digest)
        return prepared

    def by_text(self, text: str) -> PreparedDocument | None:
        """The prepared document with exactly this text (the transports pass the prepared
        text object itself, whose hash Python has already cached)."""
        return self._trusted_texts.get(text) or self._automatic_texts.get(text)

    def is_prepared(self, text: str, document: DocumentNode) -> bool:
        """Whether `document` is the very AST prepared for `text` (so: validated)."""
        prepared = self.by_text(text)
        return prepared is not None and prepared.document is document

    def trusted_by_text(self, text: str) -> PreparedDocument | None:
        return self._trusted_texts.get(text)

    def trusted_documents(self) -> list[PreparedDocument]:
        return list(self._trusted.values())


class PersistedDocumentParser(SchemaExtension):
    """Hands a prepared document's AST to execution (no parse). With `trusted_only`, a
    document that is not a trusted one never reaches the parser: it is answered with the
    fixed TRUSTED_DOCUMENT_REQUIRED error, whatever the transport did before."""

    def __init__(self, registry: DocumentRegistry, *, trusted_only: bool) -> None:
        self.registry = registry
        self.trusted_only = trusted_only

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        registry = self.registry
        prepared = registry.trusted_by_text(query) if self.trusted_only else registry.by_text(query)
        if prepared is not None:
            context.graphql_document = prepared.document
        elif self.trusted_only and context.graphql_document is None:
            # The client's document is never parsed: a placeholder of an operation type the
            # transport allows stands in for it, and the error below is the answer. (Strawberry
            # would look the operation up by the client's name, which the placeholder lacks.)
            allowed = {OperationType(t.value) for t in context.allowed_operations}
            kind = next(k for k in _REFUSED_PLACEHOLDERS if k in allowed)
            context.graphql_document = _REFUSED_PLACEHOLDERS[kind]
            context._provided_operation_name = None  # type: ignore[attr-defined]
            context.pre_execution_errors = [trusted_document_required()]
        yield
