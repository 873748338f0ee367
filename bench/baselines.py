"""Reference search engines for the benchmark: SQLite FTS5 and tantivy.

Our Whoosh figures are printed as ratios to these engines, run on the same replies and
the same queries, each doing the same work per query as our search: find every match,
count them, rank the top ones by BM25, optionally highlight those, and optionally count
every value of every facet over all the matches.

* **Word queries** (already segmented words, all required). Each text part (title,
  proposal title, body) is indexed as the caller's segmentation joined by spaces,
  lower-cased, in three fields weighted as our BM25F weights them
  (:data:`indexer.schema.WORD_FIELDS`). FTS5 reads them with ``unicode61`` (diacritics
  kept, and jieba's in-word ASCII marks ``+#&._%-`` declared token characters, so that
  every jieba word stays one token); tantivy with its built-in ``whitespace`` tokenizer.
  Query words are looked up exactly as indexed.
* **Exact queries** (a phrase of 1-12 characters) over the folded text
  (:func:`indexer.analysis.fold` of title, proposal title and body joined by
  :data:`~indexer.analysis.SEPARATOR`, the haystack of our exact search). FTS5 keeps it
  in a ``trigram`` table (case-sensitive: the folding has already lower-cased what ours
  lower-cases): phrases of 3+ characters are a MATCH of the quoted phrase, shorter ones
  ``LIKE '%…%'`` on the same table, a full scan, ranked by the BM25 of the substring as a
  single term (its occurrences, the text's length). tantivy indexes overlapping
  character bigrams as whitespace-separated tokens (position = character index, so a
  phrase can never bridge two parts) and single characters in a second field; a phrase
  is a phrase query over its bigrams, two characters a term query, one character a term
  query on the character field.
* **Facets.** FTS5: a ``doc_facet(doc, value)`` table (value ids into ``facet_value``)
  joined to the matches and counted with one ``GROUP BY``. tantivy: one raw-tokenized,
  multi-valued fast string field per facet, all counted in one pass by
  ``Searcher.aggregate`` with a ``terms`` aggregation per facet (tantivy-py 0.27 has it;
  it runs tantivy's own aggregation collector over the fast fields, which is what
  tantivy offers for this, with ``size`` set to the facet's number of distinct values so
  the counts are exact and complete).
* **Highlighting.** FTS5: ``snippet()`` (best column for words, at most 64 tokens as
  FTS5 allows; for ``LIKE`` matches, which FTS5 cannot highlight, a window cut around
  the first occurrence in SQL). tantivy: ``SnippetGenerator`` on the body, else the
  title, else the proposal title for words; for exact queries on the n-gram text,
  rebuilt from the stored folded text (stored once, as bytes, rather than three times
  as token text).

Both engines answer one query with a few statements or calls: FTS5 materialises the
matches once in a temporary table (count, top, facets and snippets read it, so a
scan for a short phrase runs once); tantivy runs a counted top-k search and, for
facets, an aggregation of the same query. FTS5 is optimised (one b-tree per table) and
vacuumed after the build; tantivy's two writer threads leave two segments (below its
merge policy's threshold, and tantivy-py offers no explicit merge).

Where they differ from our search: words are jieba's precise words only (our index also
stacks the dictionary sub-words of long words, so 大湾区 finds 粤港澳大湾区 there, not
here); the word fields leave out the section headings our index also weighs; exact
matches rank by each engine's own BM25 (FTS5 over trigrams, tantivy over bigrams, ours
over bigrams), so the top ten may differ where scores are close; snippets show the
indexed text (words separated by spaces, folded text, or tantivy's n-gram tokens), not
the original text with matches mapped back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Protocol

from reply_archive.archive.model import Reply
from reply_archive.indexer.analysis import exact_text, fold
from reply_archive.indexer.build import facet_values
from reply_archive.indexer.schema import FACET_NAMES, FACETS, WORD_FIELDS

try:
    import tantivy
except ImportError:  # the benchmark then compares with FTS5 only
    tantivy = None

WORD_PARTS = ("title", "proposal_title", "body")
SNIPPET_CHARS = 120  # about what our passages show
BATCH = 1000

Segment = Callable[[str], list[str]]


@dataclass(frozen=True)
class BaselineDoc:
    """A reply as the reference engines see it: its text parts and facet values."""

    id: str
    title: str
    proposal_title: str
    body: str
    facets: dict[str, tuple[str, ...]]

    def folded(self) -> str:
        """Return the folded text exact queries search (our exact field's haystack)."""
        return fold(exact_text(self.title, self.proposal_title, self.body))


def from_reply(reply: Reply) -> BaselineDoc:
    """Return a record's text parts and facet values (each value once)."""
    return BaselineDoc(
        id=reply.id,
        title=reply.title,
        proposal_title=reply.proposal_title or "",
        body=reply.searchable_body,
        facets={f.name: tuple(dict.fromkeys(facet_values(reply, f.attr))) for f in FACETS},
    )


@dataclass(frozen=True)
class BaselineResult:
    """What one query returns: the match count, the top ids, their snippets (empty
    without highlighting) and facet counts over all matches (empty without facets)."""

    total: int
    top: tuple[str, ...]
    snippets: tuple[str, ...]
    facets: dict[str, dict[str, int]]


class Baseline(Protocol):
    """A reference engine: built once into its folder, then queried."""

    name: str

    def build(self, docs: Iterable[BaselineDoc], segment: Segment) -> None: ...

    def size(self) -> int: ...

    def words(self, words: Sequence[str], *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult: ...

    def exact(self, phrase: str, *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult: ...

    def close(self) -> None: ...


def available() -> list[type]:
    """Return the reference engines that can run here (tantivy when it is installed)."""
    return [Fts5] if tantivy is None else [Fts5, Tantivy]


def _tokens(text: str, segment: Segment) -> str:
    """Return ``text`` as its lower-cased words joined by spaces."""
    return " ".join(word.lower() for word in segment(text))


def _query_words(words: Sequence[str]) -> list[str]:
    """Return the query words as indexed (lower-cased); refuse an empty query."""
    terms = [w.lower() for w in words if w]
    if not terms:
        raise ValueError("a word query needs at least one word")
    return terms


def _folded_phrase(phrase: str) -> str:
    """Return the phrase folded like the text; refuse one that folds to nothing."""
    folded = fold(phrase)
    if not folded:
        raise ValueError(f"nothing to search for in {phrase!r}")
    return folded


def _check_top(top: int) -> None:
    """Refuse a top of fewer than one reply (tantivy panics on a limit of zero)."""
    if top < 1:
        raise ValueError(f"top must be at least 1, not {top}")


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Fts5:
    """SQLite FTS5: a ``unicode61`` table of words and a ``trigram`` table of folded text."""

    name = "fts5"

    _SCHEMA = f"""
        CREATE VIRTUAL TABLE words USING fts5(
            id UNINDEXED, {", ".join(WORD_PARTS)},
            tokenize="unicode61 remove_diacritics 0 tokenchars '+#&._%-'");
        INSERT INTO words(words, rank) VALUES (
            'rank', 'bm25(0, {", ".join(str(WORD_FIELDS[p]) for p in WORD_PARTS)})');
        CREATE VIRTUAL TABLE exact USING fts5(
            id UNINDEXED, text, tokenize='trigram case_sensitive 1');
        CREATE TABLE facet_value (id INTEGER PRIMARY KEY, facet TEXT NOT NULL, value TEXT NOT NULL);
        CREATE TABLE doc_facet (
            doc INTEGER NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (doc, value)
        ) WITHOUT ROWID;
    """
    # LIKE matches, which FTS5 cannot rank: BM25 (k1 1.2, b 0.75, as FTS5's) of the
    # short phrase taken as one term, from its occurrences and the text's length,
    # each text read once (MATERIALIZED keeps SQLite from repeating the expressions).
    _LIKE_MATCHES = """
        WITH m(doc, len, rest) AS MATERIALIZED (
            SELECT rowid, length(text), length(replace(text, :p, ''))
            FROM exact WHERE text LIKE :like ESCAPE '\\')
        SELECT doc, -((len - rest) / :n * 2.2) / ((len - rest) / :n + 1.2 * (0.25 + 0.75 * len / :avgdl))
        FROM m
    """

    # CROSS JOIN walks the matches and seeks their values: SQLite has no statistics on
    # temp.hit and may otherwise scan every doc's values for a query with few matches.
    _FACET_COUNTS = """
        SELECT v.facet, v.value, c.n
        FROM (SELECT d.value AS value, count(*) AS n
              FROM temp.hit h CROSS JOIN doc_facet d ON d.doc = h.doc GROUP BY d.value) c
        JOIN facet_value v ON v.id = c.value
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "fts5.sqlite"
        self._db: sqlite3.Connection | None = None
        self._avgdl = 1.0

    def build(self, docs: Iterable[BaselineDoc], segment: Segment) -> None:
        """Index ``docs`` into a new database in the folder, in one transaction."""
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None)
        db.executescript(self._SCHEMA)
        value_ids: dict[tuple[str, str], int] = {}
        words, exact, links = [], [], []
        count = chars = 0

        def flush() -> None:
            db.executemany("INSERT INTO words(rowid, id, title, proposal_title, body) VALUES (?, ?, ?, ?, ?)", words)
            db.executemany("INSERT INTO exact(rowid, id, text) VALUES (?, ?, ?)", exact)
            db.executemany("INSERT INTO doc_facet(doc, value) VALUES (?, ?)", links)
            words.clear()
            exact.clear()
            links.clear()

        db.execute("BEGIN")
        for rowid, doc in enumerate(docs, 1):
            folded = doc.folded()
            words.append((rowid, doc.id, *(_tokens(getattr(doc, part), segment) for part in WORD_PARTS)))
            exact.append((rowid, doc.id, folded))
            for facet, values in doc.facets.items():
                for value in values:
                    links.append((rowid, value_ids.setdefault((facet, value), len(value_ids) + 1)))
            count, chars = rowid, chars + len(folded)
            if len(words) >= BATCH:
                flush()
        flush()
        db.executemany("INSERT INTO facet_value(facet, value, id) VALUES (?, ?, ?)",
                       ((f, v, i) for (f, v), i in value_ids.items()))
        db.execute("COMMIT")
        # One b-tree per FTS table, as after any bulk load, the pages that frees given
        # back (size() measures the index, not the leftovers), statistics for the joins.
        db.execute("INSERT INTO words(words) VALUES ('optimize')")
        db.execute("INSERT INTO exact(exact) VALUES ('optimize')")
        db.execute("VACUUM")
        db.execute("ANALYZE")
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("CREATE TEMP TABLE hit (doc INTEGER PRIMARY KEY, score REAL NOT NULL)")
        self._db = db
        self._avgdl = max(chars / count, 1.0) if count else 1.0

    def size(self) -> int:
        """Return the bytes the database takes on disk."""
        return _folder_size(self.folder)

    def words(self, words: Sequence[str], *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult:
        """Return the replies holding every word, best first."""
        query = " AND ".join(_quote(w) for w in _query_words(words))
        return self._search(
            "words", "SELECT rowid, rank FROM words WHERE words MATCH :q", "words MATCH :q", {"q": query},
            "snippet(words, -1, '<b>', '</b>', '…', 64)",
            facets=facets, highlight=highlight, top=top,
        )

    def exact(self, phrase: str, *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult:
        """Return the replies whose folded text contains the folded phrase, best first."""
        phrase = _folded_phrase(phrase)
        if len(phrase) >= 3:
            return self._search(
                "exact", "SELECT rowid, rank FROM exact WHERE exact MATCH :q", "exact MATCH :q",
                {"q": _quote(phrase)}, "snippet(exact, 1, '<b>', '</b>', '…', 64)",
                facets=facets, highlight=highlight, top=top,
            )
        # Fewer than three characters make no trigram: FTS5 scans with LIKE.
        pattern = "%" + phrase.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        window = SNIPPET_CHARS // 2
        cut = (f"substr(text, max(instr(text, :p) - {window}, 1), min(instr(text, :p) - 1, {window}))"
               f" || '<b>' || :p || '</b>' || substr(text, instr(text, :p) + :n, {window})")
        return self._search(
            "exact", self._LIKE_MATCHES, "text LIKE :like ESCAPE '\\'",
            {"like": pattern, "p": phrase, "n": float(len(phrase)), "avgdl": self._avgdl}, cut,
            facets=facets, highlight=highlight, top=top,
        )

    def _search(self, table: str, matches: str, where: str, params: dict, snippet: str, *,
                facets: bool, highlight: bool, top: int) -> BaselineResult:
        """Match once into ``temp.hit``, then read the count, top, snippets and facets.

        :param matches: a SELECT of every match's rowid and score (lower is better).
        :param where: the condition that matches a row of ``table``, for the snippets,
            which need the match context again.
        """
        _check_top(top)
        db = self._connection()
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM temp.hit")
            db.execute(f"INSERT INTO temp.hit(doc, score) {matches}", params)
            total = db.execute("SELECT count(*) FROM temp.hit").fetchone()[0]
            ranked = db.execute(
                f"SELECT h.doc, t.id FROM temp.hit h JOIN {table} t ON t.rowid = h.doc"
                " ORDER BY h.score, h.doc LIMIT ?", (top,)).fetchall()
            snippets: tuple[str, ...] = ()
            if highlight and ranked:
                params = {**params, "docs": json.dumps([doc for doc, _ in ranked])}
                found = dict(db.execute(
                    f"SELECT rowid, {snippet} FROM {table} WHERE {where}"
                    " AND rowid IN (SELECT value FROM json_each(:docs))", params))
                snippets = tuple(found[doc] for doc, _ in ranked)
            counts: dict[str, dict[str, int]] = {}
            if facets:
                counts = {name: {} for name in FACET_NAMES}
                for facet, value, n in db.execute(self._FACET_COUNTS):
                    counts[facet][value] = n
        finally:
            db.execute("COMMIT")
        return BaselineResult(total, tuple(id_ for _, id_ in ranked), snippets, counts)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"{self.name}: build the index first")
        return self._db

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None


def _quote(text: str) -> str:
    """Return ``text`` as an FTS5 string: one phrase, no query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _grams(text: str, size: int) -> str:
    """Return the overlapping character n-grams of ``text`` joined by spaces (the
    folded text has no ASCII whitespace, tantivy's only token separator)."""
    return " ".join(text[i : i + size] for i in range(len(text) - size + 1))


class Tantivy:
    """tantivy: whitespace-tokenized word fields, bigram and character fields, and fast
    string fields for the facets."""

    name = "tantivy"

    HEAP = 200_000_000
    THREADS = 2
    BIGRAMS, CHARS, FOLDED = "bigrams", "chars", "folded"

    def __init__(self, folder: Path) -> None:
        if tantivy is None:
            raise RuntimeError("tantivy is not installed (pip install -r requirements-bench.txt)")
        self.folder = Path(folder)
        self._schema = self._searcher = None
        self._facet_sizes: dict[str, int] = {}

    @staticmethod
    def _facet_field(name: str) -> str:
        return f"facet_{name}"

    def _make_schema(self):
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        for part in WORD_PARTS:
            builder.add_text_field(part, stored=True, tokenizer_name="whitespace", index_option="position")
        builder.add_text_field(self.BIGRAMS, tokenizer_name="whitespace", index_option="position")
        builder.add_text_field(self.CHARS, tokenizer_name="whitespace", index_option="freq")
        # Snippets of exact matches rebuild the n-gram text from this one stored copy.
        builder.add_bytes_field(self.FOLDED, stored=True, indexed=False)
        for name in FACET_NAMES:
            builder.add_text_field(self._facet_field(name), fast=True, tokenizer_name="raw", index_option="basic")
        return builder.build()

    def build(self, docs: Iterable[BaselineDoc], segment: Segment) -> None:
        """Index ``docs`` into a new index in the folder; commit once at the end."""
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        schema = self._make_schema()
        index = tantivy.Index(schema, path=str(self.folder), reuse=False)
        writer = index.writer(heap_size=self.HEAP, num_threads=self.THREADS)
        distinct: dict[str, set[str]] = {name: set() for name in FACET_NAMES}
        for doc in docs:
            folded = doc.folded()
            record = tantivy.Document()
            record.add_text("id", doc.id)
            for part in WORD_PARTS:
                record.add_text(part, _tokens(getattr(doc, part), segment))
            record.add_text(self.BIGRAMS, _grams(folded, 2))
            record.add_text(self.CHARS, _grams(folded, 1))
            record.add_bytes(self.FOLDED, folded.encode())
            for name in FACET_NAMES:
                for value in doc.facets.get(name, ()):
                    record.add_text(self._facet_field(name), value)
                    distinct[name].add(value)
            writer.add_document(record)
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self._schema, self._searcher = schema, index.searcher()
        self._facet_sizes = {name: len(values) for name, values in distinct.items()}

    def size(self) -> int:
        """Return the bytes the index takes on disk."""
        return _folder_size(self.folder)

    def words(self, words: Sequence[str], *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult:
        """Return the replies holding every word, best first."""
        Query, Occur = tantivy.Query, tantivy.Occur
        self._require_index()
        schema = self._schema
        query = Query.boolean_query([
            (Occur.Must, Query.boolean_query([
                (Occur.Should, Query.boost_query(Query.term_query(schema, part, word, "freq"), WORD_FIELDS[part]))
                for part in WORD_PARTS
            ]))
            for word in _query_words(words)
        ])
        return self._search(query, None, facets=facets, highlight=highlight, top=top)

    def exact(self, phrase: str, *, facets: bool = True, highlight: bool = True,
              top: int = 10) -> BaselineResult:
        """Return the replies whose folded text contains the folded phrase, best first."""
        Query = tantivy.Query
        self._require_index()
        schema = self._schema
        phrase = _folded_phrase(phrase)
        if len(phrase) == 1:
            query, size = Query.term_query(schema, self.CHARS, phrase, "freq"), 1
        elif len(phrase) == 2:
            query, size = Query.term_query(schema, self.BIGRAMS, phrase, "freq"), 2
        else:
            bigrams = [phrase[i : i + 2] for i in range(len(phrase) - 1)]
            query, size = Query.phrase_query(schema, self.BIGRAMS, bigrams), 2
        return self._search(query, size, facets=facets, highlight=highlight, top=top)

    def _search(self, query, gram: int | None, *, facets: bool, highlight: bool,
                top: int) -> BaselineResult:
        """Run a counted top-k search, then snippets and one aggregation over all matches.

        :param gram: the n-gram size of an exact query's field; None for words.
        """
        _check_top(top)
        searcher = self._searcher
        result = searcher.search(query, limit=top, count=True)
        docs = [searcher.doc(address) for _, address in result.hits]
        snippets: tuple[str, ...] = ()
        if highlight and docs:
            snippets = tuple(self._snippets(query, docs, gram))
        counts: dict[str, dict[str, int]] = {}
        if facets:
            aggregations = {
                name: {"terms": {"field": self._facet_field(name), "size": max(size, 1)}}
                for name, size in self._facet_sizes.items()
            }
            answer = searcher.aggregate(query, aggregations)
            counts = {
                name: {bucket["key"]: bucket["doc_count"] for bucket in answer[name]["buckets"]}
                for name in self._facet_sizes
            }
        return BaselineResult(result.count, tuple(doc.get_first("id") for doc in docs), snippets, counts)

    def _snippets(self, query, docs: list, gram: int | None) -> Iterator[str]:
        """Yield a highlighted snippet of each doc: of its body, else title, else
        proposal title for words; of its n-gram text for an exact query."""
        generators: dict[str, object] = {}

        def generator(field: str, bytes_per_char: int):
            if field not in generators:
                made = tantivy.SnippetGenerator.create(self._searcher, query, self._schema, field)
                made.set_max_num_chars(SNIPPET_CHARS * bytes_per_char)  # a budget in UTF-8 bytes
                generators[field] = made
            return generators[field]

        for doc in docs:
            if gram is None:
                snippets = (generator(field, 4).snippet_from_doc(doc) for field in ("body", "title", "proposal_title"))
                body = next(snippets)
                yield next((s for s in chain([body], snippets) if s.highlighted()), body).to_html()
            else:
                field = self.CHARS if gram == 1 else self.BIGRAMS
                grams = tantivy.Document()
                grams.add_text(field, _grams(doc.get_first(self.FOLDED).decode(), gram))
                yield generator(field, 3 * gram + 1).snippet_from_doc(grams).to_html()

    def _require_index(self) -> None:
        if self._searcher is None:
            raise RuntimeError(f"{self.name}: build the index first")

    def close(self) -> None:
        """Let go of the searcher."""
        self._searcher = None
