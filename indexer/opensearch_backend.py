"""The OpenSearch backend: the archive on a cluster, reached over its REST API.

On the cluster, each build writes a generation index, ``<prefix>-gen-<time>``; the alias
``<prefix>`` names the current one and moves in one ``_aliases`` call, so searches see
the old generation or the new one, never half of one. A generation is never written
once current (it is made read-only): an update clones it (hard links, no record is
analysed again), changes the clone and moves the alias. ``<prefix>-builds`` keeps what
each generation was built from (the archive snapshot :mod:`indexer.sync` compares).

Analysis stays on our side. Every indexed field is sent as the array of tokens our
analyzer of that field (:func:`indexer.schema.build_schema`) gives, under the cluster's
``keyword`` analyzer with no position gap between values: one token per element, at
consecutive positions. So both backends index the same terms, and exact wording (the
bigrams at their character positions, gaps filled) is a ``span_near`` of bigrams, a
substring test. The body's words are also sent at Whoosh's positions, a long word's
sub-words stacked at its position (:func:`stacked`), for proximity as span queries
(:mod:`indexer.opensearch_query`). A proximity group of too many words for one span
query is checked here on the stored positions of the replies a wider span selects, and
same-sentence scopes on the stored body of the candidates.

Ranking is the cluster's BM25 with the field weights as boosts, per shard: the order of
equally relevant replies may differ from Whoosh's; hit sets, exact wording, facet
counts and the other sorts do not.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from math import log
from pathlib import Path
from typing import Any, TypeVar

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as ClusterConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError

from reply_archive.archive.model import Reply

from .analysis import segmenter
from .backend import Deadline, Document, Request
from .build import build_lock, reply_to_doc
from .errors import ClusterError, IndexerError, IndexMissing, IndexStale
from .facets import picker, stands_for_many
from .opensearch_query import NEAR_FIELD, Query, Resolved, near, near_query, nearby_nodes, to_query
from .plan import Everything, Nearby, Plan
from .query import ScopeFilter, in_one_scope, is_neighbour
from .schema import CHAR_FIELD, EXACT_FIELD, FACET_NAMES, INDEX_VERSION, VALUE_FIELDS, WORD_TEXT_FIELDS, build_schema
from .settings import Settings

# Fields matched by their tokens (text, keyword analyzer) and by their values (keyword).
TEXT_FIELDS = (*WORD_TEXT_FIELDS, EXACT_FIELD, CHAR_FIELD)
FILLER = "\x1f"  # stands at a position of the exact field that holds no bigram (one character: never a bigram)
# The near field's text: positions apart by spaces, the words at one position joined by
# STACK, NO_WORD where a position holds none. Words never hold a control character or a
# space (analysis.segment keeps tokens with a letter or digit, from jieba's clauses).
STACK, NO_WORD = "\x01", "\x02"
# The cluster mapping's own version, beside the schema's: a generation of another
# mapping is rebuilt, not read.
FORMAT = f"{INDEX_VERSION}.2"
FACET_SIZE = 5_000  # values of one facet counted at most (an exact count says so if there are more)
PAGE = 500  # replies read per request when walking a whole selection
BULK = 200  # replies written per bulk request
NEIGHBOURS = 50  # words one edit from a misspelt one the term suggester gives, per shard and in all
RETRY_SECONDS = 30.0  # how long a write waits for the cluster to recover (a node restarting)
_T = TypeVar("_T")


def mapping() -> dict[str, Any]:
    """Return the mapping of a generation index."""
    # Only the exact field's positions are matched on the cluster (its bigrams, at
    # consecutive positions: no gap between the values of the array).
    properties: dict[str, Any] = {name: {"type": "text", "analyzer": "keyword", "index_options": "freqs"}
                                  for name in TEXT_FIELDS}
    properties[EXACT_FIELD].update(index_options="positions", position_increment_gap=0)
    properties[NEAR_FIELD] = {"type": "text", "analyzer": "stacked", "index_options": "positions", "norms": False}
    properties.update({name: {"type": "keyword"} for name in ("id", "date", "number_order", *VALUE_FIELDS)})
    properties["stored"] = {"type": "object", "enabled": False}
    return {
        "dynamic": "strict",
        "_meta": {"format": FORMAT},
        "_source": {"excludes": [*TEXT_FIELDS, NEAR_FIELD]},  # the tokens are kept by the index, not as text
        "properties": properties,
    }


# The analysis of the near field (:func:`stacked`): a token for each word at its
# position; the filler goes, its position kept (Lucene's stop filter keeps the gap).
ANALYSIS = {
    "tokenizer": {"positions": {"type": "whitespace", "max_token_length": 1024 * 1024}},
    "filter": {
        "stack": {"type": "pattern_capture", "preserve_original": False, "patterns": [f"([^{STACK}]+)"]},
        "no_word": {"type": "stop", "stopwords": [NO_WORD], "ignore_case": False},
    },
    "analyzer": {"stacked": {"type": "custom", "tokenizer": "positions", "filter": ["stack", "no_word"]}},
}


def to_source(reply: Reply, aliases: Mapping[str, Sequence[str]] | None, schema) -> dict[str, Any]:
    """Return the document of a reply: each field as our analyzer's tokens, and what a
    hit shows, its body and the positions of its body's words, by word (for proximity:
    a query reads only its own words' positions, see :func:`position_key`)."""
    doc = reply_to_doc(reply, aliases)
    source: dict[str, Any] = {"id": doc["id"], "date": doc["date"], "number_order": doc["number_order"]}
    positions: dict[str, list[int]] = {}
    for name in TEXT_FIELDS:
        tokens = [(t.text, t.pos) for t in schema[name].analyzer(doc[name], positions=True, mode="index")]
        if name == EXACT_FIELD:
            source[name] = _filled(tokens)
        else:
            source[name] = [text for text, _ in tokens]
        if name == "body":
            source[NEAR_FIELD] = stacked(tokens)
            for text, pos in tokens:
                positions.setdefault(position_key(text), []).append(pos)
    for name in VALUE_FIELDS:
        source[name] = [t.text for t in schema[name].analyzer(doc[name], mode="index")]
    source["stored"] = {"display": doc["display"], "body": doc["body"], "positions": positions}
    return source


def position_key(word: str) -> str:
    """Return the key of a word's positions in a document's ``stored.positions``.

    A search asks for ``stored.positions.<key>`` of its words alone, so the cluster
    sends a few numbers per reply, not the whole body's words; the characters that a
    source filter reads as a path or a wildcard (and ``%``) are escaped.
    """
    return word.replace("%", "%25").replace(".", "%2E").replace("*", "%2A")


def stacked(tokens: list[tuple[str, int]]) -> str:
    """Return the near field's text of tokens at their positions (in order of position):
    the cluster's analyzer ``stacked`` gives back each token at its position."""
    at: list[list[str]] = []
    for text, pos in tokens:
        at.extend([] for _ in range(pos + 1 - len(at)))
        at[pos].append(text)
    return " ".join(STACK.join(words) if words else NO_WORD for words in at)


def _filled(tokens: list[tuple[str, int]]) -> list[str]:
    """Return tokens one per position, a filler at each position that holds none."""
    out: list[str] = []
    for text, pos in tokens:
        out.extend(FILLER * (pos - len(out)))
        out.append(text)
    return out


@dataclass
class OpenSearchSelection:
    """The replies of a request, as the queries that select them."""

    base: Query  # the query and its scopes, before facet filters
    filters: dict[str, Query]  # per selected facet, the filter of its values
    final: Query  # base, facet filters and narrowing together
    sort: list[Any]
    scored: bool
    total: int
    word_count: int
    timed_out: bool


class OpenSearchBackend:
    """The archive's index on an OpenSearch cluster.

    :param folder: the local index folder, which holds the build lock (builds of one
        prefix run from one machine).
    """

    def __init__(self, folder: str | Path, settings: Settings) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.alias = settings.opensearch_prefix
        self.builds = f"{self.alias}-builds"
        self.client = OpenSearch(
            hosts=[url.strip() for url in settings.opensearch_url.split(",") if url.strip()],
            http_auth=(settings.opensearch_user, settings.opensearch_password) if settings.opensearch_user else None,
            verify_certs=settings.opensearch_verify,
            ca_certs=settings.opensearch_ca or None,
            ssl_show_warn=settings.opensearch_verify,
            timeout=30,
            max_retries=3,
            retry_on_timeout=True,
            retry_on_status=(502, 503, 504),
        )
        self._checked: set[str] = set()  # generations whose format was checked
        self._vocabulary: dict[tuple[str, str], list[str]] = {}  # (generation, facet) -> values
        self._windows: dict[str, int] = {}  # generation -> its max_result_window
        self._computed = 0

    def where(self) -> str:
        """Return where the index is, for messages."""
        return f"{self.settings.opensearch_url} ({self.alias})"

    # --- reading ----------------------------------------------------------------------

    def generation_id(self) -> str:
        """Return the name of the generation index the alias points to.

        :raise IndexMissing: when no index has been built on the cluster.
        """
        try:
            found = _retrying(lambda: self.client.indices.get_alias(name=self.alias), self._deadline())
        except NotFoundError:
            raise IndexMissing(self.where()) from None
        return sorted(found)[0]

    @contextmanager
    def reader(self) -> Iterator[OpenSearchReader]:
        """Hold the current generation for one request: every call of the request reads it."""
        generation = self.generation_id()
        if generation not in self._checked:
            meta = _retrying(lambda: self.client.indices.get_mapping(index=generation), self._deadline())
            found = meta[generation]["mappings"].get("_meta", {}).get("format", "unknown")
            if found != FORMAT:
                raise IndexStale(self.where(), found, FORMAT)
            self._checked.add(generation)
        yield OpenSearchReader(self, generation)

    def _deadline(self) -> Deadline:
        """Return the time a read outside a request may take: one query's."""
        return Deadline(self.settings.query_seconds)

    def warmed(self, timeout: float | None = None) -> bool:
        """Return True: the cluster keeps nothing to warm on our side."""
        return True

    def forget_matches(self) -> None:
        """Clear the cluster's request cache of the current generation."""
        self.client.indices.clear_cache(index=self.generation_id(), request=True)

    def cache_info(self) -> tuple[int, int]:
        """Return (0, selections computed): matches are not remembered here."""
        return 0, self._computed

    def close(self) -> None:
        """Close the connections to the cluster."""
        self.client.close()

    def vocabulary(self, generation: str, facet: str, deadline: Deadline) -> list[str]:
        """Return every value of a facet in a generation (to resolve ranges of values)."""
        key = (generation, facet)
        if key not in self._vocabulary:
            body = {"size": 0, "aggs": {"v": {"terms": {"field": facet, "size": FACET_SIZE}}}}
            response = self.search(generation, body, deadline)
            self._vocabulary[key] = [b["key"] for b in response["aggregations"]["v"]["buckets"]]
        return self._vocabulary[key]

    def window(self, generation: str, deadline: Deadline) -> int:
        """Return how deep a generation's results can be paged with from and size."""
        if generation not in self._windows:
            found = _retrying(
                lambda: self.client.indices.get_settings(
                    index=generation, name="index.max_result_window", params={"include_defaults": "true"}
                ),
                deadline,
            )[generation]
            value = found.get("settings", {}).get("index", {}).get("max_result_window") or found.get(
                "defaults", {}
            ).get("index", {}).get("max_result_window", 10_000)
            self._windows[generation] = int(value)
        return self._windows[generation]

    def search(
        self, generation: str | None, body: dict[str, Any], deadline: Deadline, **params: Any
    ) -> dict[str, Any]:
        """Run a search on every shard of a generation (or of the point in time the body
        names), retried until the deadline while shards are unavailable (a node died): an
        answer is whole or an error, never part.
        """

        def call() -> dict[str, Any]:
            response = self.client.search(
                index=generation,
                body=body,
                params={"allow_partial_search_results": "false", **params},
                request_timeout=max(deadline.remaining(), 1.0),
            )
            return _whole(response)

        return _retrying(call, deadline)

    # --- writing ----------------------------------------------------------------------

    def info(self) -> dict[str, Any] | None:
        """Return what the current generation was built from, or None."""
        try:
            generation = self.generation_id()
            found = self.client.get(index=self.builds, id=generation)
        except (IndexerError, NotFoundError):
            return None
        return found["_source"].get("info")

    def build(
        self,
        replies: Iterable[Reply],
        *,
        info: Callable[[], dict[str, Any]] | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        procs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write every reply to a new generation and make it current; return how many."""
        with self._new_generation(info, copy_current=False) as generation:
            return self._write(generation, replies, (), aliases, progress, procs)

    def update(
        self,
        replies: Iterable[Reply],
        *,
        delete: Iterable[str] = (),
        info: Callable[[], dict[str, Any]] | None = None,
        aliases: Mapping[str, Sequence[str]] | None = None,
        procs: int = 1,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Add or replace replies and delete ids, in a copy of the current generation
        that then becomes current; return how many were written."""
        with self._new_generation(info, copy_current=True) as generation:
            return self._write(generation, replies, delete, aliases, progress, procs)

    @contextmanager
    def _new_generation(self, info: Callable[[], dict[str, Any]] | None, *, copy_current: bool) -> Iterator[str]:
        """Give a new generation index to fill, then make it current in one alias move.

        A build that fails leaves the alias where it was and removes its index.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        with build_lock(self.folder):
            try:
                previous: str | None = self.generation_id()
            except IndexMissing:
                previous = None
            if copy_current and previous is None:
                raise IndexMissing(self.where())
            generation = f"{self.alias}-gen-{time.time_ns()}"
            indices = self.client.indices
            try:
                if copy_current and previous is not None:
                    indices.clone(
                        index=previous,
                        target=generation,
                        body={"settings": {"index.blocks.write": False}},
                        params={"wait_for_active_shards": "1"},
                    )
                else:
                    indices.create(index=generation, body={"settings": self._index_settings(), "mappings": mapping()})
                indices.put_settings(index=generation, body={"index.refresh_interval": "-1"})
                yield generation
                indices.put_settings(index=generation, body={"index.refresh_interval": "1s"})
                indices.refresh(index=generation)
                indices.put_settings(index=generation, body={"index.blocks.write": True})
                self.client.cluster.health(
                    index=generation,
                    wait_for_status="green" if self.settings.opensearch_replicas else "yellow",
                    request_timeout=60,
                )
                kept = info() if info else None
                if not indices.exists(index=self.builds):
                    # Kept, not indexed: a snapshot names every record file.
                    indices.create(index=self.builds, body={"mappings": {"dynamic": False, "properties": {
                        "info": {"type": "object", "enabled": False}}}})
                self.client.index(
                    index=self.builds, id=generation, body={"info": kept}, params={"refresh": "true"}
                )
            except BaseException:
                self.client.indices.delete(index=generation, ignore_unavailable=True)
                raise
            actions: list[dict[str, Any]] = [{"add": {"index": generation, "alias": self.alias}}]
            if previous is not None:
                actions.append({"remove": {"index": previous, "alias": self.alias}})
            indices.update_aliases(body={"actions": actions})
            # The previous generation stays one more round, for requests that resolved the
            # alias just before the move.
            self._remove_old_generations(keep={generation, previous or generation})

    def _index_settings(self) -> dict[str, Any]:
        return {
            "number_of_shards": self.settings.opensearch_shards,
            "number_of_replicas": self.settings.opensearch_replicas,
            "analysis": ANALYSIS,
        }

    def _remove_old_generations(self, keep: set[str]) -> None:
        names = self.client.indices.get(index=f"{self.alias}-gen-*", params={"expand_wildcards": "all"})
        for name in names:
            if name not in keep:
                self.client.indices.delete(index=name, ignore_unavailable=True)
                self.client.delete(index=self.builds, id=name, ignore=[404])

    def _write(
        self,
        generation: str,
        replies: Iterable[Reply],
        delete: Iterable[str],
        aliases: Mapping[str, Sequence[str]] | None,
        progress: Callable[[int], None] | None,
        procs: int = 1,
    ) -> int:
        """Write replies and deletions in bulk requests; return how many replies.

        With ``procs`` above one, worker processes analyse the replies (jieba, in Python,
        is most of a build's time) while this one sends them.
        """
        count = 0
        batch: list[dict[str, Any]] = [{"_op_type": "delete", "_id": reply_id} for reply_id in delete]
        for reply_id, source in _analysed(replies, aliases, procs):
            batch.append({"_op_type": "index", "_id": reply_id, "_source": source})
            count += 1
            if len(batch) >= BULK:
                self._bulk(generation, batch)
                if progress:
                    progress(sum(1 for action in batch if action["_op_type"] == "index"))
                batch = []
        self._bulk(generation, batch)
        if progress and batch:
            progress(sum(1 for action in batch if action["_op_type"] == "index"))
        return count

    def _bulk(self, generation: str, actions: list[dict[str, Any]]) -> None:
        """Write one batch, again while the cluster recovers (writes are idempotent)."""
        if not actions:
            return

        def call() -> None:
            _, failed = helpers.bulk(
                self.client, actions, index=generation, raise_on_error=False, raise_on_exception=True,
                max_retries=3, chunk_size=BULK,
            )
            errors = [item for item in failed if _status(item) != 404]  # deleting a missing id is no failure
            if errors:
                raise ClusterError(f"{generation}: {len(errors)} writes failed: {errors[0]}")

        _retrying(call, Deadline(RETRY_SECONDS))


_worker_aliases: Mapping[str, Sequence[str]] | None = None  # set in each analysing process


def _analysed(
    replies: Iterable[Reply], aliases: Mapping[str, Sequence[str]] | None, procs: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(id, document)`` for each reply, in order, analysed in ``procs`` processes."""
    global _worker_aliases
    _worker_aliases = aliases
    if procs <= 1:
        yield from map(_analyse, replies)
        return
    segmenter()  # load the dictionary once, before the workers fork
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        yield from pool.imap(_analyse, replies, chunksize=8)


def _analyse(reply: Reply) -> tuple[str, dict[str, Any]]:
    return reply.id, to_source(reply, _worker_aliases, _schema())


@functools.cache
def _schema():
    return build_schema()


def _status(item: Mapping[str, Any]) -> int:
    """Return the status of one failed bulk item ({"index": {"status": …}})."""
    for outcome in item.values():
        return int(outcome.get("status", 0))
    return 0


def _retrying(call: Callable[[], _T], deadline: Deadline) -> _T:
    """Call, again after a pause while the cluster cannot answer, until the deadline.

    A generation index that is gone (two builds finished during one request) is a
    :class:`ClusterError` (asking again reads the new one); a missing document or alias
    stays a :class:`NotFoundError` for the caller.
    """
    while True:
        try:
            return call()
        except NotFoundError as exc:
            if exc.error == "index_not_found_exception":
                raise ClusterError(f"the index was replaced by a newer build: {exc}") from None
            raise
        except (ClusterConnectionError, TransportError, ClusterError) as exc:
            status = getattr(exc, "status_code", None)
            if isinstance(status, int) and 400 <= status < 500 and status != 429:
                raise IndexerError(f"the cluster refused the request: {exc}") from None
            if deadline.remaining() < 0.2:
                raise ClusterError(f"the cluster did not answer: {exc}") from None
            time.sleep(0.2)


class OpenSearchReader:
    """One generation index, answering the questions of one request."""

    def __init__(self, backend: OpenSearchBackend, generation: str) -> None:
        self._backend = backend
        self._gen = generation

    def _search(self, body: dict[str, Any], deadline: Deadline, **params: Any) -> dict[str, Any]:
        return self._backend.search(self._gen, {"timeout": _millis(deadline), **body}, deadline, **params)

    def _base(self, plan: Plan, scopes: tuple[ScopeFilter, ...], deadline: Deadline) -> tuple[Query, bool]:
        """Return the query of a plan within its scopes, and whether time ran out.

        Scopes, and proximity groups too large for the cluster's span query
        (:func:`~indexer.opensearch_query.near_query`), are checked here, on the replies
        that may match them.
        """
        resolved: Resolved = {}
        late = False
        for node in nearby_nodes(plan):
            spans, exact = near_query(node)
            if exact:
                resolved[node] = spans
                continue
            fields = [f"stored.positions.{position_key(w)}" for w in sorted(_words(node))]
            ids, node_late = self._kept(spans, fields, _near(node), deadline)
            resolved[node] = {"ids": {"values": ids}}
            late = late or node_late
        query = to_query(plan, resolved)
        if scopes:

            def in_scopes(source: dict[str, Any]) -> bool:
                return all(in_one_scope(source["stored"]["body"], scope) for scope in scopes)

            ids, scope_late = self._kept(query, ["stored.body"], in_scopes, deadline)
            query = {"bool": {"must": [query], "filter": [{"ids": {"values": ids}}]}}
            late = late or scope_late
        return query, late

    def _kept(
        self, query: Query, fields: list[str], keep: Callable[[dict[str, Any]], bool], deadline: Deadline
    ) -> tuple[list[str], bool]:
        """Return the ids of the replies a query matches that ``keep`` accepts, reading
        the given stored fields; stop at the deadline (the second value says so)."""
        kept: list[str] = []
        for hit in self._walk(query, [{"id": "asc"}], fields, deadline):
            if deadline.passed:
                return kept, True
            if keep(hit["_source"]):
                kept.append(hit["_id"])
        return kept, False

    def _walk(
        self, query: Query, sort: list[Any], fields: list[str] | bool, deadline: Deadline, start: int = 0
    ) -> Iterator[dict[str, Any]]:
        """Yield every hit of a query in order from ``start``, a page at a time, through a
        point in time (the generation cannot change under it; the PIT keeps it even
        if a later build removes it)."""
        pit = _retrying(
            lambda: self._backend.client.create_pit(index=self._gen, params={"keep_alive": "2m"}), deadline
        )["pit_id"]
        try:
            after: list[Any] | None = None
            skip = start
            while True:
                body: dict[str, Any] = {
                    "query": query, "sort": sort, "size": PAGE, "_source": fields, "track_total_hits": False,
                    "pit": {"id": pit, "keep_alive": "2m"},
                }
                if after is not None:
                    body["search_after"] = after
                hits = self._backend.search(None, body, deadline)["hits"]["hits"]
                for hit in hits:
                    if skip:
                        skip -= 1
                        continue
                    yield hit
                if len(hits) < PAGE:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self._backend.client.delete_pit(body={"pit_id": [pit]})
            except (TransportError, ClusterConnectionError):
                pass  # it expires by itself

    def select(self, request: Request, deadline: Deadline) -> OpenSearchSelection:
        """Count the replies of a request: those of its query, then the facet filters."""
        base, late = self._base(request.plan, request.scopes, deadline)
        filters = {name: self._facet_filter(name, values, deadline) for name, values in request.filters.items()}
        narrowing: list[Query] = list(filters.values())
        if request.committing:
            narrowing.append({"term": {"commitments": "yes"}})
        if request.before is not None:
            narrowing.append({"bool": {"filter": [{"range": {"date": {"lt": request.before}}}],
                                       "must_not": [{"term": {"date": ""}}]}})
        final = {"bool": {"must": [base], "filter": narrowing}} if narrowing else base
        body = {"size": 0, "track_total_hits": True, "query": base,
                "aggs": {"final": {"filter": {"bool": {"filter": narrowing}}}}}
        response = self._search(body, deadline)
        self._backend._computed += 1
        scored = request.sort == "relevance" and not isinstance(request.plan, Everything)
        return OpenSearchSelection(
            base=base,
            filters=filters,
            final=final,
            sort=_SORTS[request.sort],
            scored=scored,
            total=response["aggregations"]["final"]["doc_count"],
            word_count=response["hits"]["total"]["value"],
            timed_out=late or bool(response.get("timed_out")),
        )

    def _facet_filter(self, name: str, values: tuple[str, ...], deadline: Deadline) -> Query:
        """Return the filter of a facet's selected values (ranges and broader values
        resolved to the values they pick)."""
        wanted = set(values)
        if any(stands_for_many(name, v) for v in values):
            picks = picker(name, values)
            wanted |= {v for v in self._backend.vocabulary(self._gen, name, deadline) if picks(v)}
        return {"terms": {name: sorted(wanted)}}

    def count(self, plan: Plan, scopes: tuple[ScopeFilter, ...], deadline: Deadline) -> int | None:
        """Count a plan's matches within the scopes; None when time ran out."""
        query, late = self._base(plan, scopes, deadline)
        response = self._search({"size": 0, "track_total_hits": True, "query": query}, deadline)
        return None if late or response.get("timed_out") else response["hits"]["total"]["value"]

    def frequencies(self, plans: Sequence[Plan], deadline: Deadline) -> list[int]:
        """Count each plan's matches in one request: a filters aggregation, one bucket a plan."""
        if not plans:
            return []
        queries = {str(n): self._base(plan, (), deadline)[0] for n, plan in enumerate(plans)}
        body = {"size": 0, "track_total_hits": False, "aggs": {"plans": {"filters": {"filters": queries}}}}
        buckets = self._search(body, deadline)["aggregations"]["plans"]["buckets"]
        return [buckets[str(n)]["doc_count"] for n in range(len(plans))]

    def neighbours(self, words: Sequence[str], deadline: Deadline) -> list[list[str]]:
        """Return the body words one edit from each word, from the term suggester (the
        cluster's term dictionary, per shard: the :data:`NEIGHBOURS` most frequent of the
        words within one edit, transpositions included, which :func:`is_neighbour` leaves out)."""
        if not words:
            return []
        options = {
            "field": "body", "analyzer": "keyword", "suggest_mode": "always", "sort": "frequency",
            "max_edits": 1, "prefix_length": 0, "min_word_length": 2, "accuracy": 0.0,
            "size": NEIGHBOURS, "shard_size": NEIGHBOURS, "max_inspections": 20,
        }
        suggest = {str(n): {"text": word, "term": options} for n, word in enumerate(words)}
        found = self._search({"size": 0, "track_total_hits": False, "suggest": suggest}, deadline)["suggest"]
        return [
            sorted({o["text"] for entry in found[str(n)] for o in entry["options"] if is_neighbour(word, o["text"])})
            for n, word in enumerate(words)
        ]

    def documents(
        self, selection: OpenSearchSelection, start: int = 0, stop: int | None = None, *, bodies: bool = True
    ) -> Iterator[Document]:
        """Yield the selected replies from ``start`` to ``stop`` in order: one request for
        a page within the cluster's result window, a walk past it; bodies only if asked."""
        deadline = Deadline(self._backend.settings.query_seconds)
        fields = ["stored.display", "stored.body"] if bodies else ["stored.display"]
        stop = selection.total if stop is None else min(stop, selection.total)
        if stop <= start:
            return
        if stop <= self._window(deadline):
            body = {"query": selection.final, "sort": selection.sort, "from": start, "size": stop - start,
                    "_source": fields, "track_total_hits": False}
            # Relevance is scored with the whole index's term statistics, not each shard's.
            search_type = "dfs_query_then_fetch" if selection.scored else "query_then_fetch"
            hits = self._search(body, deadline, search_type=search_type)["hits"]["hits"]
        else:
            walk = self._walk(selection.final, selection.sort, fields, Deadline(RETRY_SECONDS), start)
            hits = (hit for _, hit in zip(range(stop - start), walk, strict=False))
        for hit in hits:
            stored = hit["_source"]["stored"]
            yield Document(stored["display"], stored.get("body", ""), hit.get("_score") if selection.scored else None)

    def _window(self, deadline: Deadline) -> int:
        return self._backend.window(self._gen, deadline)

    def facets(self, selection: OpenSearchSelection) -> dict[str, Counter[str]]:
        """Count each facet over the replies that pass every *other* facet's filter."""
        aggs = {
            name: {
                "filter": {"bool": {"filter": [q for other, q in selection.filters.items() if other != name]}},
                "aggs": {"v": {"terms": {"field": name, "size": FACET_SIZE}}},
            }
            for name in FACET_NAMES
        }
        response = self._search({"size": 0, "query": selection.base, "aggs": aggs}, self._deadline())
        return {name: _buckets(response["aggregations"][name]["v"], name) for name in FACET_NAMES}

    def counts(self, selection: OpenSearchSelection, facet: str) -> Counter[str]:
        """Count one facet over the selected replies."""
        body = {"size": 0, "query": selection.final, "aggs": {"v": {"terms": {"field": facet, "size": FACET_SIZE}}}}
        return _buckets(self._search(body, self._deadline())["aggregations"]["v"], facet)

    def crosstab(
        self, selection: OpenSearchSelection, rows: str, columns: str, keep: set[str]
    ) -> dict[str, Counter[str]]:
        """Count the selected replies by ``columns`` ("" for none) for each value of ``rows`` kept."""
        table: dict[str, Counter[str]] = {name: Counter() for name in keep}
        if not keep:
            return table
        body = {
            "size": 0,
            "query": selection.final,
            "aggs": {"rows": {
                "terms": {"field": rows, "include": sorted(keep), "size": len(keep)},
                "aggs": {"columns": {"terms": {"field": columns, "missing": "", "size": FACET_SIZE}}},
            }},
        }
        for bucket in self._search(body, self._deadline())["aggregations"]["rows"]["buckets"]:
            table[bucket["key"]].update(_buckets(bucket["columns"], columns))
        return table

    def document(self, reply_id: str) -> Document | None:
        """Return one reply by id."""
        try:
            found = _retrying(
                lambda: self._backend.client.get(
                    index=self._gen, id=reply_id, params={"_source_includes": "stored.display,stored.body"}
                ),
                self._deadline(),
            )
        except NotFoundError:
            return None
        stored = found["_source"]["stored"]
        return Document(stored["display"], stored["body"])

    def key_terms(self, weights: Counter[str], count: int) -> list[tuple[str, float]]:
        """Weigh candidate words by the Bo1 model, as the Whoosh backend does, with the
        statistics of the shard the cluster asks (term vectors are counted per shard)."""
        if not weights:
            return []
        body = {"doc": {"body": list(weights)}, "fields": ["body"], "term_statistics": True,
                "field_statistics": True, "positions": False, "offsets": False}
        found = _retrying(lambda: self._backend.client.termvectors(index=self._gen, body=body), self._deadline())
        vector = found.get("term_vectors", {}).get("body", {})
        docs = vector.get("field_statistics", {}).get("doc_count", 0)
        if not docs:
            return []
        scored = []
        for word, stats in vector.get("terms", {}).items():
            frequency = stats.get("ttf", 0)
            if frequency > 0 and word in weights:
                scored.append((_bo1(weights[word], frequency, docs), word))
        if not scored:
            return []
        best = max(score for score, _ in scored)
        norm = _bo1(best, best, docs) if best else best
        ranked = sorted(((score / norm, word) for score, word in scored), key=lambda x: (-x[0], x[1]))
        return [(word, weight) for weight, word in ranked[:count]]

    def ids(self) -> set[str]:
        """Return the id of every reply of the generation."""
        return {hit["_id"] for hit in self._walk({"match_all": {}}, [{"id": "asc"}], False, Deadline(RETRY_SECONDS))}

    def _deadline(self) -> Deadline:
        return Deadline(self._backend.settings.query_seconds)


def _bo1(weight: float, frequency: float, docs: int) -> float:
    """Return the Bo1 weight of a word: how much more the text uses it than the collection."""
    f = frequency / docs
    return weight * log((1.0 + f) / f, 2) + log(1.0 + f, 2)


_SORTS: dict[str, list[Any]] = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "newest": [{"date": "desc"}, {"id": "desc"}],
    "oldest": [{"date": "asc"}, {"id": "asc"}],
    "number": [{"number_order": "asc"}, {"id": "asc"}],
}


def _words(node: Nearby) -> set[str]:
    return {w for run in node.runs for w in run}


def _near(node: Nearby) -> Callable[[dict[str, Any]], bool]:
    """Return the test of a reply's stored word positions (those of the node's words:
    a source without the others) against a Nearby."""
    keys = {w: position_key(w) for w in _words(node)}

    def test(source: dict[str, Any]) -> bool:
        found = source.get("stored", {}).get("positions", {})
        return near(node, lambda word: found.get(keys[word], []))

    return test


def _buckets(agg: Mapping[str, Any], facet: str) -> Counter[str]:
    if agg.get("sum_other_doc_count"):
        raise IndexerError(f"facet {facet} has more than {FACET_SIZE} values: its counts would not be exact")
    return Counter({b["key"]: b["doc_count"] for b in agg["buckets"] if b["doc_count"]})


def _whole(response: dict[str, Any]) -> dict[str, Any]:
    shards = response.get("_shards", {})
    if shards.get("failed") or shards.get("successful") != shards.get("total"):
        raise ClusterError(f"{shards.get('failed')} of {shards.get('total')} shards failed")
    return response


def _millis(deadline: Deadline) -> str:
    return f"{max(int(deadline.remaining() * 1000), 1)}ms"
