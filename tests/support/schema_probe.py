"""A schema-recovery probe: what can an anonymous client learn of the schema from errors?

It works the way clairvoyance does, with more checks, from a commerce wordlist
(`commerce_wordlist.txt`, written apart from our schema). Per root type (Query, Mutation):

1. suggestions: any "Did you mean 'x'?" names a real field `x`;
2. clairvoyance's bucket probe: `{ w1 w2 ... w64 }`; a word that no "Cannot query field 'w'"
   error names is a candidate, and a candidate counts only once a message confirms it:
   "Field 'w' of type 'T' must have a selection of subfields", "Field 'w' argument 'a' of
   type 'T' is required", "Field 'w' must not have a selection since type 'T' has no
   subfields" (clairvoyance's type probe, on `{ w }`);
3. a differential probe: the answer to `{ w }` must be the answer to a word that cannot
   exist, once the words themselves (quoted in messages, in paths, as data keys), request
   ids, error locations and "Did you mean" sentences are taken out (statuses, codes,
   messages, the number of errors and `extensions` all count);
4. a cost probe: a document that is invalid anyway but would be over the cost limit if `w`
   were a real connection (`{ w(first: 100) { e0: edges { node { id } } ... } zzq }`),
   compared with the same document on a word that cannot exist.

Fields found by 1-4 are "recovered". Apart from those, the execution probe sends complete
documents, `{ w { __typename } }`: when one runs (data, or an error of a field that ran),
the field exists. No error policy can hide that while arbitrary documents run; only
trusted documents do.

Arguments are probed the same ways on fields given as already known (an attacker who
guessed them), with `{ f(a: 7) { __typename } }` and bucketed `{ f(a1: 7, a2: 7, ...) }`.

    python -m tests.support.schema_probe http://127.0.0.1:8000/graphql
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

WORDLIST = Path(__file__).with_name("commerce_wordlist.txt")
ARGUMENT_WORDS = (
    "first", "last", "after", "before", "offset", "limit", "page", "pageSize", "perPage",
    "skip", "take", "cursor", "sort", "sortBy", "orderBy", "order", "direction", "filter",
    "filters", "where", "query", "search", "term", "q", "keyword", "text", "id", "ids",
    "handle", "slug", "sku", "code", "status", "state", "type", "kind", "userId",
    "customerId", "channel", "locale", "language", "currency", "country", "category",
    "categories", "brand", "brands", "tag", "tags", "minPrice", "maxPrice", "price",
    "inStock", "available", "createdAfter", "createdBefore", "from", "to", "since", "until",
    "input", "context",
)  # fmt: skip
NONSENSE = "zzqxjvw"  # no API has this field
BUCKET = 64
ROOTS = {"Query": "query", "Mutation": "mutation"}

Send = Callable[[str], Awaitable[tuple[int, dict]]]

_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_TYPE = r"[_A-Za-z\[\]!][_0-9A-Za-z\[\]!]*"
_Q = r"['\"]"  # graphql-core quotes names with ', graphql-js with "
_N = rf"{_Q}({_NAME}){_Q}"  # a quoted name, captured
_SUGGESTION = re.compile(r"\s*Did you mean (.*?)\?")
_QUOTED = re.compile(_N)
_CANNOT_QUERY = re.compile(rf"Cannot query field {_N} on type {_N}")
_CONFIRMS_FIELD = [
    re.compile(rf"Field {_N} of type {_Q}{_TYPE}{_Q} must have a selection of subfields"),
    re.compile(rf"Field {_N} must not have a selection since type {_Q}{_TYPE}{_Q}"),
    re.compile(rf"Field {_N} argument {_Q}{_NAME}{_Q} of type {_Q}{_TYPE}{_Q} is required"),
]
_CONFIRMS_ARGUMENT = re.compile(rf"Field {_Q}{_NAME}{_Q} argument {_N} of type")


def load_wordlist(path: Path = WORDLIST) -> list[str]:
    words = (line.strip() for line in path.read_text().splitlines())
    return list(dict.fromkeys(w for w in words if w and not w.startswith("#")))


@dataclass
class ProbeReport:
    """What the probe found, per root type: field name -> how it was found."""

    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    executed: dict[str, set[str]] = field(default_factory=dict)
    arguments: dict[str, dict[str, str]] = field(default_factory=dict)
    executed_arguments: dict[str, set[str]] = field(default_factory=dict)
    requests: int = 0

    def recovered(self, root: str) -> set[str]:
        return set(self.fields.get(root, {}))

    def total(self) -> int:
        return sum(len(found) for found in self.fields.values())

    def summary(self) -> str:
        lines = [f"{self.requests} requests"]
        for root in ROOTS:
            found = self.fields.get(root, {})
            lines.append(f"{root}: {len(found)} fields from errors {sorted(found)}")
            lines.append(
                f"{root}: {len(self.executed.get(root, ()))} fields from complete documents "
                f"{sorted(self.executed.get(root, ()))}"
            )
        arguments = sum(len(a) for a in self.arguments.values())
        by_execution = sum(len(a) for a in self.executed_arguments.values())
        lines.append(
            f"arguments of known fields: {arguments} from errors, {by_execution} by running"
        )
        return "\n".join(lines)


def _normalise(status: int, body: dict, words: Iterable[str]) -> str:
    """The answer with what differs for any two probes taken out (see the module doc): the
    probed words where they are quoted in messages, named in paths or are data keys."""
    names = set(words)

    def name(value: object) -> object:
        return "<W>" if value in names else value

    body = json.loads(json.dumps(body))
    for error in body.get("errors") or ():
        if not isinstance(error, dict):
            continue
        error.pop("locations", None)
        (error.get("extensions") or {}).pop("requestId", None)
        message = _SUGGESTION.sub("", str(error.get("message", "")))
        for word in names:
            message = message.replace(f"'{word}'", "'<W>'").replace(f'"{word}"', '"<W>"')
        error["message"] = message
        if isinstance(error.get("path"), list):
            error["path"] = [name(part) for part in error["path"]]
    if isinstance(body.get("data"), dict):
        body["data"] = {name(key): value for key, value in body["data"].items()}
    return f"{status} {json.dumps(body, sort_keys=True)}"


def _messages(body: dict) -> list[str]:
    return [e.get("message", "") for e in body.get("errors") or () if isinstance(e, dict)]


def _ran(body: dict) -> bool:
    """A document that executed: data, or an error raised while a field ran (it has a path)."""
    if body.get("data"):
        return True
    return any(isinstance(e, dict) and e.get("path") for e in body.get("errors") or ())


class SchemaProbe:
    def __init__(self, send: Send, *, concurrency: int = 16) -> None:
        self._send = send
        self._gate = asyncio.Semaphore(concurrency)
        self.report = ProbeReport()

    async def send(self, document: str) -> tuple[int, dict]:
        async with self._gate:
            self.report.requests += 1
            return await self._send(document)

    async def run(self, words: list[str], known: dict[str, list[str]] | None = None) -> ProbeReport:
        for root, keyword in ROOTS.items():
            await self._probe_root(root, keyword, words)
        for root, fields in (known or {}).items():
            for name in fields:
                await self._probe_arguments(root, ROOTS[root], name)
        return self.report

    # --- root fields ----------------------------------------------------------------------

    async def _probe_root(self, root: str, keyword: str, words: list[str]) -> None:
        found = self.report.fields.setdefault(root, {})
        candidates: set[str] = set()
        buckets = [words[i : i + BUCKET] for i in range(0, len(words), BUCKET)]
        answers = await asyncio.gather(
            *(self.send(f"{keyword} {{ {' '.join(b)} }}") for b in buckets)
        )
        for bucket, (_status, body) in zip(buckets, answers, strict=True):
            named_invalid = set()
            for message in _messages(body):
                self._harvest_suggestions(message, root, found)
                if match := _CANNOT_QUERY.search(message):
                    named_invalid.add(match.group(1))
            candidates |= set(bucket) - named_invalid

        edges = " ".join(f"e{i}: edges {{ node {{ id }} }}" for i in range(12))
        shapes: list[Callable[[str], str]] = [
            lambda w: f"{keyword} {{ {w} }}",
            lambda w: f"{keyword} {{ {w}(first: 100) {{ {edges} }} {NONSENSE}y }}",  # cost
            lambda w: f"{keyword} {{ {w} {{ __typename }} }}",  # a complete document
        ]
        expected = [_normalise(*await self.send(shape(NONSENSE)), [NONSENSE]) for shape in shapes]

        async def probe(word: str) -> None:
            answers = [await self.send(shape(word)) for shape in shapes]
            for index, ((status, body), baseline) in enumerate(zip(answers, expected, strict=True)):
                for message in _messages(body):
                    self._harvest_suggestions(message, root, found)
                    if word in candidates and any(
                        (m := p.search(message)) and m.group(1) == word for p in _CONFIRMS_FIELD
                    ):
                        found.setdefault(word, "clairvoyance")
                if index == 2:
                    if _ran(body):
                        self.report.executed.setdefault(root, set()).add(word)
                    continue
                if _normalise(status, body, [word, NONSENSE]) != baseline:
                    found.setdefault(word, "cost" if index == 1 else "differential")

        await asyncio.gather(*(probe(word) for word in words))

    @staticmethod
    def _harvest_suggestions(message: str, root: str, found: dict[str, str]) -> None:
        match = _CANNOT_QUERY.search(message)
        suggestion = _SUGGESTION.search(message)
        if match and suggestion and match.group(2) == root:
            for name in _QUOTED.findall(suggestion.group(1)):
                found.setdefault(name, "suggestion")

    # --- arguments of known fields ----------------------------------------------------------

    async def _probe_arguments(self, root: str, keyword: str, name: str) -> None:
        key = f"{root}.{name}"
        found = self.report.arguments.setdefault(key, {})
        executed = self.report.executed_arguments.setdefault(key, set())
        buckets = [ARGUMENT_WORDS[i : i + BUCKET] for i in range(0, len(ARGUMENT_WORDS), BUCKET)]
        for bucket in buckets:
            arguments = ", ".join(f"{a}: 7" for a in bucket)
            _status, body = await self.send(f"{keyword} {{ {name}({arguments}) {{ __typename }} }}")
            for message in _messages(body):
                if match := _CONFIRMS_ARGUMENT.search(message):
                    found.setdefault(match.group(1), "clairvoyance")
                for suggestion in _SUGGESTION.findall(message):
                    if "argument" in message:
                        for argument in _QUOTED.findall(suggestion):
                            found.setdefault(argument, "suggestion")

        def shape(argument: str) -> str:
            return f"{keyword} {{ {name}({argument}: 7) {{ __typename }} }}"

        baseline = _normalise(*await self.send(shape(NONSENSE)), [NONSENSE])

        async def probe(argument: str) -> None:
            status, body = await self.send(shape(argument))
            if _ran(body):
                executed.add(argument)
            elif _normalise(status, body, [argument, NONSENSE]) != baseline:
                found.setdefault(argument, "differential")

        await asyncio.gather(*(probe(a) for a in ARGUMENT_WORDS))


def http_sender(client: httpx.AsyncClient, url: str = "/graphql") -> Send:
    async def send(document: str) -> tuple[int, dict]:
        response = await client.post(url, json={"query": document})
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text}
        return response.status_code, body if isinstance(body, dict) else {"raw": body}

    return send


async def _main(url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        probe = SchemaProbe(http_sender(client, url))
        report = await probe.run(load_wordlist())
    print(report.summary())


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
