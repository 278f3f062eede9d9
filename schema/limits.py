"""Abuse limits on GraphQL documents: depth, aliases, directives and an estimated cost.

`measure()` walks a parsed document once, before graphql-core validates it, and
`QueryLimitsExtension` refuses a document over a limit with code QUERY_TOO_COMPLEX; the
full validation is then skipped, so an abusive document costs one linear walk.

Why not Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter`: both re-walk a fragment at
every spread, so a chain of fragments that each spread the next one twice makes them
exponential (18 fragments, ~160 tokens: 0.9 s for the depth limiter, 0.3 s for the alias
limiter; 25 fragments: minutes). Here every fragment is measured once and its numbers are
reused at each spread. Counting semantics follow theirs: fields whose name starts with `__`
(introspection) add no depth, and aliases are counted across the whole document as executed,
i.e. a fragment spread twice counts twice. Directives are counted the same way.

Cost model (an upper-bound estimate, reported in `extensions.cost`):
- a field returning an object costs 1, a scalar or enum 0;
- a field with `first`/`last` arguments (a connection or paginated list) multiplies the list
  below it by its page size: `first`, else `last`, else the default page size, capped at
  the maximum page size (a larger value is refused by the resolver with PAGE_SIZE_EXCEEDED);
- any other list of objects is assumed to hold `default_list_size` items;
- the branches of an abstract type (`... on Product`, `... on User`) are added up;
- introspection fields cost nothing: introspection is off in production and graphql-core's
  `MaxIntrospectionDepthRule` bounds it elsewhere;
- a field that writes (`schema/writes.py`: `recommendations` logs a decision) costs
  `WRITE_COST` more.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
)
from graphql.language import OperationType as AstOperationType
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from core.pagination import DEFAULT_PAGE_SIZE
from schema.document_cache import DocumentMemo, int_variables
from schema.errors import MAX_CACHED_QUERY_LENGTH, reveals_schema
from schema.validation import ValidationCache
from schema.writes import WRITE_COST, writes

PAGINATION_ARGUMENTS = ("first", "last")


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int
    max_aliases: int
    max_directives: int
    max_cost: int
    max_page_size: int
    default_page_size: int = DEFAULT_PAGE_SIZE
    default_list_size: int = 10


@dataclass(frozen=True, slots=True)
class QueryMeasure:
    depth: int
    aliases: int
    directives: int
    cost: int


class _Walker:
    """One pass over a document with each fragment measured once (memoised per fragment)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        limits: QueryLimits,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self._shape: dict[str, tuple[int, int, int]] = {}
        self._cost: dict[tuple[str, int | None], int] = {}
        self._on_path: set[str] = set()

    # --- depth, aliases, directives (independent of types) ---------------------------

    def shape(self, selection_set: SelectionSetNode | None) -> tuple[int, int, int]:
        """(depth, aliases, directives) of a selection set, fragments expanded."""
        depth = aliases = directives = 0
        for selection in selection_set.selections if selection_set else ():
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                sub_depth, sub_aliases, sub_directives = self.shape(selection.selection_set)
                if not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + sub_depth)
                aliases += (selection.alias is not None) + sub_aliases
                directives += sub_directives
            else:
                if isinstance(selection, InlineFragmentNode):
                    sub = self.shape(selection.selection_set)
                else:
                    sub = self.fragment_shape(selection)
                depth = max(depth, sub[0])
                aliases += sub[1]
                directives += sub[2]
        return depth, aliases, directives

    def fragment_shape(self, spread: FragmentSpreadNode) -> tuple[int, int, int]:
        name = spread.name.value
        if name in self._shape:
            return self._shape[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._on_path:
            return 0, 0, 0  # unknown fragment or a cycle: validation reports it
        self._on_path.add(name)
        try:
            depth, aliases, directives = self.shape(fragment.selection_set)
        finally:
            self._on_path.discard(name)
        result = depth, aliases, directives + len(fragment.directives or ())
        self._shape[name] = result
        return result

    # --- cost ---------------------------------------------------------------------------

    def cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page_size: int | None,
    ) -> int:
        """Cost of a selection set on `parent`; `page_size` is set below a paginated field."""
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, page_size)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.cost(selection.selection_set, target, page_size)
            else:
                total += self.fragment_cost(selection, page_size)
        return total

    def fragment_cost(self, spread: FragmentSpreadNode, page_size: int | None) -> int:
        name = spread.name.value
        key = (name, page_size)
        if key in self._cost:
            return self._cost[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._on_path:
            return 0
        self._on_path.add(name)
        try:
            target = self.schema.get_type(fragment.type_condition.name.value)
            result = self.cost(fragment.selection_set, target, page_size)
        finally:
            self._on_path.discard(name)
        self._cost[key] = result
        return result

    def field_cost(
        self, node: FieldNode, parent: GraphQLNamedType | None, page_size: int | None
    ) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition = _field(parent, name)
        if definition is None:
            # Unknown field (validation will refuse it): count its structure as objects.
            return (1 + self.cost(node.selection_set, None, None)) if node.selection_set else 0
        extra = WRITE_COST if writes(definition) else 0
        named = get_named_type(definition.type)
        composite = is_composite_type(named)
        own_size = self.page_size(node, definition)
        if composite and isinstance(get_nullable_type(definition.type), GraphQLList):
            size = own_size if own_size is not None else page_size
            multiplier = self.limits.default_list_size if size is None else size
            return extra + multiplier * (1 + self.cost(node.selection_set, named, None))
        return extra + int(composite) + self.cost(node.selection_set, named, own_size)

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int | None:
        if not any(arg in definition.args for arg in PAGINATION_ARGUMENTS):
            return None
        sizes = [
            self.int_argument(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in PAGINATION_ARGUMENTS
        ]
        given = [size for size in sizes if size is not None]
        size = max(given) if given else self.limits.default_page_size
        return max(0, min(size, self.limits.max_page_size))

    def int_argument(self, value: Any) -> int | None:
        if isinstance(value, IntValueNode):
            return _as_int(value.value)
        if isinstance(value, VariableNode):
            raw = self.variables.get(value.name.value)
            return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        return None


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    fields = getattr(parent, "fields", None)
    return fields.get(name) if fields else None


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    return (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _variable_values(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        default = definition.default_value
        if isinstance(default, IntValueNode):
            values[definition.variable.name.value] = _as_int(default.value)
    values.update(variables or {})
    return values


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode):
    return {
        AstOperationType.QUERY: schema.query_type,
        AstOperationType.MUTATION: schema.mutation_type,
        AstOperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


def _definition_directives(operation: OperationDefinitionNode) -> int:
    count = len(operation.directives or ())
    for definition in operation.variable_definitions or ():
        count += len(definition.directives or ())
    return count


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> QueryMeasure:
    """Depth (deepest operation), aliases and directives (whole document, as executed) and
    the cost of the operation to run (the costliest one when it cannot be told yet).

    Raises `RecursionError` for fragments nested beyond Python's stack (refuse those)."""
    depth = aliases = directives = cost = 0
    for operation in _operations(document):
        walker = _Walker(schema, document, _variable_values(operation, variables), limits)
        op_depth, op_aliases, op_directives = walker.shape(operation.selection_set)
        depth = max(depth, op_depth)
        aliases += op_aliases
        directives += op_directives + _definition_directives(operation)
        name = operation.name.value if operation.name else None
        if operation_name is None or name == operation_name:
            op_cost = walker.cost(operation.selection_set, _root_type(schema, operation), None)
            cost = max(cost, op_cost)
    return QueryMeasure(depth=depth, aliases=aliases, directives=directives, cost=cost)


def limit_errors(found: QueryMeasure, limits: QueryLimits) -> list[GraphQLError]:
    checks = (
        ("depth", found.depth, limits.max_depth, "Query depth {0} exceeds the limit of {1}"),
        ("aliases", found.aliases, limits.max_aliases, "{0} aliases; the limit is {1}"),
        ("directives", found.directives, limits.max_directives, "{0} directives; the limit is {1}"),
        ("cost", found.cost, limits.max_cost, "Query cost {0} exceeds the limit of {1}"),
    )
    return [
        too_complex(template.format(value, limit), limit=name)
        for name, value, limit, template in checks
        if value > limit
    ]


def too_complex(message: str, *, limit: str) -> GraphQLError:
    return GraphQLError(
        message, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "limit": limit}
    )


class QueryLimitsExtension(SchemaExtension):
    """Refuses over-limit documents before validation; reports the cost in `extensions`.

    Must come before the validation extension, which skips documents refused here.

    With `private_schema` (see `schema.errors`), a document over the cost limit is refused
    for its cost only if it is valid: the cost counts a real paginated field by its page
    size and a made-up one as a plain object, so refusing an invalid document for its cost
    would tell which names exist. An invalid one gets the generic validation error instead.
    Depth, aliases and directives do not depend on the schema and are refused as usual.
    """

    def __init__(
        self,
        limits: QueryLimits,
        *,
        cache: DocumentMemo | None = None,
        private_schema: bool = False,
        validations: ValidationCache | None = None,
    ) -> None:
        self.limits = limits
        # Measures of parser-cached (and prepared) documents, shared across requests.
        self.cache = cache
        self.private_schema = private_schema
        self.validations = validations or ValidationCache()
        self.measured: QueryMeasure | None = None
        self.refused = False
        self.valid = False

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            try:
                self.measured = self._measure(context)
            except RecursionError:
                self.refused = True
                context.pre_execution_errors = [
                    too_complex("Fragments are nested too deeply", limit="depth")
                ]
            else:
                errors = limit_errors(self.measured, self.limits)
                if errors and self.private_schema and not self._valid(context):
                    errors = [e for e in errors if e.extensions["limit"] != "cost"]
                if errors:
                    self.refused = True
                    context.pre_execution_errors = errors
        yield
        self.valid = not context.pre_execution_errors

    def _measure(self, context: Any) -> QueryMeasure:
        """`measure()`, memoised per document (by identity) for documents the parser cache
        keeps: a measure depends only on the operation and the integer variables."""
        document = context.graphql_document

        def run() -> QueryMeasure:
            return measure(
                context.schema._schema,
                document,
                self.limits,
                variables=context.variables,
                operation_name=context.operation_name,
            )

        if self.cache is None or len(context.query or "") > MAX_CACHED_QUERY_LENGTH:
            return run()
        return self.cache.get(
            document, (context.operation_name, int_variables(context.variables)), run
        )

    def _valid(self, context: Any) -> bool:
        errors = self.validations.errors(
            context.schema._schema,
            context.graphql_document,
            tuple(context.validation_rules),
            hide_suggestions=True,
            cacheable=len(context.query or "") <= MAX_CACHED_QUERY_LENGTH,
        )
        return not errors

    def get_results(self) -> dict[str, Any]:
        # No cost for a document that failed validation: it may name fields that do not exist.
        if self.measured is None or not (self.valid or self.refused):
            return {}
        # Nor, with a private schema, for variables that did not fit: a cost would tell that
        # the document itself was valid.
        errors = self.execution_context.pre_execution_errors or ()
        if self.private_schema and any(reveals_schema(e) for e in errors):
            return {}
        return {"cost": {"requested": self.measured.cost, "limit": self.limits.max_cost}}
