"""The GraphQL documents this project sends, collected from their sources for the
differential test of the compiled executor (tests/api/test_executor_differential.py).

- the test suite: every string literal in `tests/**/*.py` that parses as a document with
  an operation; an f-string is rendered with each `{...}` replaced by `1` (then by `"1"`)
  and kept when that parses (ids interpolated into documents become small literals);
- GraphiQL's example operations (`web/graphiql_examples.graphql`), one case per operation;
- the reference client's operations (`client/src/**/*.ts`, `graphql(\\`...\\`)` calls),
  each with the fragments it spreads, as GraphQL Code Generator sends them.

Nothing is hand-picked: a document added to any of these sources joins the corpus.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor

ROOT = Path(__file__).resolve().parents[2]
GRAPHIQL_EXAMPLES = ROOT / "web" / "graphiql_examples.graphql"
CLIENT_SOURCES = ROOT / "client" / "src"
_TS_DOCUMENT = re.compile(r"graphql\(\s*`([^`]*)`\s*\)", re.S)


@dataclass(frozen=True)
class Case:
    source: str  # where the document was found
    query: str
    operation_name: str | None
    operation: str  # query, mutation or subscription


def _parse(text: str) -> DocumentNode | None:
    if "{" not in text:
        return None
    try:
        document = parse(text)
    except (GraphQLError, RecursionError):
        return None
    if not any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        return None
    return document


def _render_fstring(node: ast.JoinedStr, filler: str, names: dict[str, str]) -> str | None:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value.value)
        elif isinstance(value, ast.FormattedValue):
            expression = value.value
            if isinstance(expression, ast.Name) and expression.id in names:
                parts.append(names[expression.id])  # a module constant, e.g. a fragment
            else:
                parts.append(filler)
        else:
            return None
    return "".join(parts)


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "..."` and `NAME = f"...{OTHER}..."` constants, resolved."""
    names: dict[str, str] = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target, value = statement.targets[0], statement.value
        if not isinstance(target, ast.Name):
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            names[target.id] = value.value
        elif isinstance(value, ast.JoinedStr):
            text = _render_fstring(value, "1", names)
            if text is not None:
                names[target.id] = text
    return names


def _strings_in(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text())
    except SyntaxError:
        return []
    names = _module_strings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            for filler in ("1", '"1"'):
                text = _render_fstring(node, filler, names)
                if text is not None and _parse(text) is not None:
                    found.append(text)
                    break
    return found


def test_suite_documents() -> list[tuple[str, str]]:
    documents = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for text in _strings_in(path):
            if _parse(text) is not None:
                documents.append((str(path.relative_to(ROOT)), text))
    return documents


def graphiql_documents() -> list[tuple[str, str]]:
    return [("web/graphiql_examples.graphql", GRAPHIQL_EXAMPLES.read_text())]


def _spreads(node) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_args) -> None:
            names.add(spread.name.value)

    visit(node, Collect())
    return names


def client_documents() -> list[tuple[str, str]]:
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[tuple[str, OperationDefinitionNode]] = []
    for path in sorted(CLIENT_SOURCES.rglob("*.ts*")):
        if "gql" in path.parts:  # generated code
            continue
        for text in _TS_DOCUMENT.findall(path.read_text()):
            for definition in parse(text).definitions:
                if isinstance(definition, FragmentDefinitionNode):
                    fragments[definition.name.value] = definition
                elif isinstance(definition, OperationDefinitionNode):
                    operations.append((str(path.relative_to(ROOT)), definition))
    documents = []
    for where, operation in operations:
        needed: list[str] = []
        pending = sorted(_spreads(operation))
        while pending:
            name = pending.pop()
            if name in needed or name not in fragments:
                continue
            needed.append(name)
            pending.extend(sorted(_spreads(fragments[name])))
        parts = [print_ast(operation), *(print_ast(fragments[n]) for n in sorted(needed))]
        documents.append((where, "\n\n".join(parts)))
    return documents


def cases(schema: GraphQLSchema) -> tuple[list[Case], dict[str, int]]:
    """Every (document, operation) that validates against `schema`, deduplicated, and
    counts per source (found, valid) for the report."""
    seen: set[tuple[str, str | None]] = set()
    result: list[Case] = []
    counts: dict[str, int] = {}
    sources = (
        ("tests", test_suite_documents()),
        ("graphiql", graphiql_documents()),
        ("client", client_documents()),
    )
    for label, documents in sources:
        counts[f"{label}_documents"] = len(documents)
        valid = 0
        for where, text in documents:
            document = _parse(text)
            if document is None or validate(schema, document):
                continue
            valid += 1
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                name = definition.name.value if definition.name else None
                key = (text, name)
                if key in seen:
                    continue
                seen.add(key)
                result.append(Case(where, text, name, definition.operation.value))
        counts[f"{label}_valid"] = valid
    return result, counts
