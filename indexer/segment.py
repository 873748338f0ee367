"""A Whoosh segment writer that keeps a build's postings as arrays.

Whoosh's own writer pays Python for every posting, several times: it adds each one to
a pool (a tuple, pickled to a run file when the pool fills), merges the sorted runs,
and hands each posting to the field writer, which checks it, looks up its document's
field length and appends it to a block. That was 58 % of a build (BENCHMARKS.md).

:class:`ArrayWriter` writes the same segment files, which Whoosh's readers and matchers
read unchanged, without that: each document's postings are appended to per-field
arrays (term, document, weight, value); at commit a stable sort puts each field's in
(term, document) order and each term's blocks are encoded from array slices, a large
field's ranges of terms sorted and encoded by forked processes side by side. The
character n-gram fields, most of the postings, are analysed as arrays too: the grams of
a text are integer codes of its code points, counted with one ``numpy.unique``.

What it writes is what Whoosh's writer writes for the same documents with the same
codec (:class:`~.codec.ReplyCodec`), block for block (``tests/test_segment.py``
compares the files).
"""

from __future__ import annotations

import multiprocessing
import signal
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from multiprocessing.pool import AsyncResult, Pool
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.fields import FieldType
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort, unpack_long
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import NO_MERGE, SegmentWriter

from .analysis import SEPARATOR, NgramTokenizer, fold, word_analyzer, word_positions
from .codec import ReplyCodec

# A code point fits in 21 bits: three of them make an integer that sorts as the text does.
_CODE_BITS = 21
_CODE_MASK = (1 << _CODE_BITS) - 1
_MAX_GRAM = 3


def gram_codes(text: str, size: int) -> np.ndarray:
    """Return the codes of the overlapping ``size``-character grams of ``fold(text)``
    that :class:`~indexer.analysis.NgramTokenizer` yields (none spans a separator).

    A gram's code orders as its text does, in code points and so in UTF-8 bytes.
    """
    points = np.frombuffer(_fold(text).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    count = len(points) - size + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    codes = np.zeros(count, dtype=np.uint64)
    keep = np.ones(count, dtype=bool)
    for i in range(size):
        part = points[i : i + count]
        codes = (codes << np.uint64(_CODE_BITS)) | part
        keep &= part != ord(SEPARATOR)
    return codes[keep]


_folded = ("", "")  # the text last folded, and its fold


def _fold(text: str) -> str:
    """Return ``fold(text)``, folded once for a text that two fields index in turn
    (a reply's bigrams and characters: one string, in a worker too, as pickled once)."""
    global _folded
    if _folded[0] is not text:
        _folded = (text, fold(text))
    return _folded[1]


def gram_text(code: int, size: int) -> str:
    """Return the text of a gram code (:func:`gram_codes`)."""
    return "".join(chr((code >> (_CODE_BITS * (size - 1 - i))) & _CODE_MASK) for i in range(size))


def _plain(field: FieldType) -> bool:
    """Return True for an indexed field with positions or frequencies alone, no
    vectors and no spelling words: one whose postings its analyzer's tokens make."""
    return (
        field.indexed and type(field.format) in (Frequency, Positions)
        and not field.vector and not field.separate_spelling()
    )


def _gram_size(field: FieldType) -> int | None:
    """Return the gram size of a field of frequencies analysed by an n-gram tokenizer
    alone, or None (the other fields are analysed by Whoosh or :func:`_subwords`)."""
    analyzer = field.analyzer
    if _plain(field) and type(field.format) is Frequency and isinstance(analyzer, NgramTokenizer):
        return analyzer.size if analyzer.size <= _MAX_GRAM else None
    return None


def _subwords(field: FieldType) -> bool | None:
    """Return whether a field analysed by :func:`~indexer.analysis.word_analyzer`
    indexes sub-words, or None for a field analysed otherwise."""
    if _plain(field):
        for subwords in (True, False):
            if field.analyzer == word_analyzer(subwords=subwords):
                return subwords
    return None


def _gaps(positions: list[list[int]]) -> tuple[bytes, np.ndarray]:
    """Return the gaps between each term's positions (the first counted from 0) as
    one array's bytes (int32), and each term's number of positions."""
    counts = np.fromiter(map(len, positions), dtype=np.int32, count=len(positions))
    flat = np.fromiter(chain.from_iterable(positions), dtype=np.int32, count=int(counts.sum()))
    gaps = flat.copy()
    gaps[1:] -= flat[:-1]
    firsts = (np.cumsum(counts) - counts)[counts > 0]
    gaps[firsts] = flat[firsts]
    return gaps.tobytes(), counts


# A field's analysis of one document: its terms (gram codes, or term bytes), their
# weights (gram counts, or weights), their values (None for grams; values of a variable
# size as one bytes and each one's size: a positions field's gaps, see :mod:`.codec`)
# and the field's length in the document.
Analysed = tuple[Any, Any, Any, int]


class FieldAnalyser:
    """Turns one field's value into its postings: grams and words as arrays or lists
    (see the module's text), any other field through Whoosh's own ``field.index``."""

    def __init__(self, field: FieldType) -> None:
        self.field = field
        self.gram = _gram_size(field)
        self.subwords = _subwords(field)
        self.value_size = field.format.fixed_value_size()
        self.positions = type(field.format) is Positions  # values held as gaps
        self.boost = float(field.format.field_boost)

    def analyse(self, value: Any) -> Analysed:
        """Return the field's postings in one document (:data:`Analysed`)."""
        scorable = self.field.scorable
        if self.gram is not None:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not text: an n-gram field indexes text")
            codes, counts = np.unique(gram_codes(value, self.gram), return_counts=True)
            return codes, counts.astype(np.int32), None, int(counts.sum()) if scorable else 0
        terms: list[bytes] = []
        weights: list[float] = []
        values: list[Any] = []  # a term's positions, or its value's bytes
        length = 0
        if self.subwords is not None and isinstance(value, str):
            boost, positions = self.boost, self.positions
            for word, at in word_positions(value, subwords=self.subwords).items():
                terms.append(word.encode("utf-8"))
                weights.append(len(at) * boost)
                values.append(at if positions else pack_uint(len(at)))
                length += len(at)
        else:  # Whoosh's own analysis (and its error for a value that is no text)
            decode = self.field.format.decode_positions if self.positions else None
            for tbytes, freq, weight, vbytes in self.field.index(value):
                terms.append(tbytes)
                weights.append(weight)
                values.append(decode(vbytes) if decode else vbytes)
                length += freq
        joined: Any = None
        if self.positions:
            joined = _gaps(values)
        elif self.value_size is None:  # one bytes and an array, not an object a posting
            joined = b"".join(values), np.fromiter(map(len, values), dtype=np.int32, count=len(values))
        elif self.value_size:
            joined = b"".join(values)
        return terms, weights, joined, length if scorable else 0


class _FieldPostings:
    """One field's postings in the order they were added (by document)."""

    def __init__(self, analyser: FieldAnalyser) -> None:
        self.field = analyser.field
        self.gram = analyser.gram
        self.value_size = analyser.value_size
        self.positions = analyser.positions
        self.boost = analyser.boost
        self.terms: list[np.ndarray] = []  # gram codes, or term numbers into self.vocab
        self.docs: list[np.ndarray] = []
        self.weights: list[np.ndarray] = []  # gram counts, or weights
        self.vocab: dict[bytes, int] = {}
        self.values = bytearray()  # the values joined (a positions field's gaps, int32)
        self.value_lengths: list[np.ndarray] = []  # of each value, where their size varies

    def add(self, docnum: int, analysed: Analysed) -> None:
        """Append a document's postings in the field (:meth:`FieldAnalyser.analyse`)."""
        terms, weights, values, _ = analysed
        if not len(terms):
            return
        if self.gram is None:
            vocab = self.vocab
            numbers = []
            for tbytes in terms:
                number = vocab.get(tbytes)
                if number is None:
                    number = vocab[tbytes] = len(vocab)
                numbers.append(number)
            terms = np.array(numbers, dtype=np.int32)
            weights = np.array(weights, dtype=np.float64)
            if self.value_size is None:
                values, lengths = values
                self.value_lengths.append(lengths)
            if self.value_size != 0:
                self.values += values
        self.terms.append(terms)
        self.docs.append(np.full(len(terms), docnum, dtype=np.int32))
        self.weights.append(weights)

    def write(self, fieldwriter: Any, codec: Any, lengths: np.ndarray, *, procs: int = 1) -> None:
        """Write the field's terms and postings through Whoosh's field writer, as
        Whoosh's postings writer (``W3PostingsWriter``) would write them: per term,
        blocks of the codec's block size, each an info tuple and a compressed data
        tuple, then the term's info in the terms table.

        :param lengths: each document's length in the field, as Whoosh reads it back
            (one byte's worth, 0 for none).
        :param procs: processes that sort and encode the postings: a field of
            :data:`PARALLEL_POSTINGS` or more is cut into that many ranges of terms of
            about as many postings each, sorted and encoded by forked processes that
            inherit the field (this one takes the first range); each range's bytes
            are written in order.
        """
        self._prepare(codec, lengths)
        ranges = self._ranges(procs if len(self._keys) >= PARALLEL_POSTINGS else 1)
        postfile, tindex = fieldwriter._postfile, fieldwriter._tindex
        key_prefix = pack_ushort(fieldwriter._fieldid)
        for data, terms in _encoded(self, ranges):
            base = postfile.tell()
            postfile.write(data)
            for term, info in terms:
                # The info ends with the term's offset and length: the offset was the
                # term's place in its range, whose bytes start at ``base``.
                offset = unpack_long(info[-12:-4])[0] + base
                tindex.add(key_prefix + term, info[:-12] + pack_long(offset) + info[-4:])

    def _prepare(self, codec: Any, lengths: np.ndarray) -> None:
        """Join the field's postings and give each the key of its term, keys sorting
        as the terms do (gram codes, or ranks of the words)."""
        self._codec, self._doc_lengths = codec, lengths
        # Each list's arrays are let go once joined: the field is held once, not twice.
        terms = np.concatenate(self.terms)
        self._docs = np.concatenate(self.docs)
        weights = np.concatenate(self.weights)
        self.terms, self.docs, self.weights = [], [], []
        if self.gram is not None:
            self._freqs = weights
            self._weights = weights.astype(np.float64) * self.boost
            self._keys = terms
        else:
            self._weights = weights
            self._names = sorted(self.vocab)
            rank = np.empty(len(self._names), dtype=np.int32)
            rank[[self.vocab[t] for t in self._names]] = np.arange(len(self._names))
            self._keys = rank[terms]
        values, self.values = bytes(self.values), bytearray()
        if self.value_size is None:
            sizes = np.concatenate(self.value_lengths)
            self.value_lengths = []
            self._value_sizes = sizes
            self._value_starts = np.cumsum(sizes, dtype=np.int64) - sizes
            self._values: Any = np.frombuffer(values, dtype=np.int32) if self.positions else values
        elif self.value_size:
            self._fixed = np.frombuffer(values, dtype=f"V{self.value_size}")

    def _ranges(self, count: int) -> list[tuple[int | None, int | None]]:
        """Return ``count`` ranges of term keys (from, to; None for no bound) holding
        about as many postings each, cut at keys of a sample of the postings."""
        if count <= 1:
            return [(None, None)]
        sample = np.sort(self._keys[:: max(1, len(self._keys) // 65536)])
        # Every range holds a term: it starts at a key there is, or none comes before it.
        cuts = sorted({int(sample[len(sample) * i // count]) for i in range(1, count)} - {int(self._keys.min())})
        bounds: list[int | None] = [None, *cuts, None]
        return list(zip(bounds[:-1], bounds[1:], strict=False))

    def _blocks(self, low: int | None, high: int | None) -> _Blocks:
        """Return the postings of the terms with keys from ``low`` to ``high`` (not
        included), in (term, document) order, with the statistics of each term and of
        each of its blocks."""
        keys = self._keys
        if low is None and high is None:
            order = np.argsort(keys, kind="stable")  # documents were added in order
        else:
            inside = np.ones(len(keys), dtype=bool)
            if low is not None:
                inside &= keys >= low
            if high is not None:
                inside &= keys < high
            picked = np.flatnonzero(inside)
            order = picked[np.argsort(keys[picked], kind="stable")]
        if self.gram is not None:
            values: Any = self._freqs[order].astype(">u4").tobytes()
        elif self.value_size is None:
            starts, sizes = self._value_starts[order], self._value_sizes[order]
            if self.positions:
                ends = np.cumsum(sizes, dtype=np.int64)
                # Each posting's gaps, gathered in the postings' new order.
                at = np.repeat(starts - (ends - sizes), sizes) + np.arange(ends[-1] if len(ends) else 0)
                values = _Gaps(self._values[at], ends)
            else:
                joined = self._values
                values = [joined[s : s + n] for s, n in zip(starts.tolist(), sizes.tolist(), strict=True)]
        elif self.value_size:
            values = self._fixed[order].tobytes()
        else:
            values = None
        keys, docs, weights = keys[order], self._docs[order], self._weights[order]
        count = len(keys)
        size = self._codec._blocklimit
        # Terms, and the blocks of each: a block starts at a term's start and every
        # ``size`` postings after it.
        term_starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        term_sizes = np.diff(np.r_[term_starts, count])
        within = np.arange(count) - np.repeat(term_starts, term_sizes)
        starts = np.flatnonzero(within % size == 0)
        ends = np.r_[starts[1:], count]
        # A block's ids are delta-encoded from 0.
        deltas = np.diff(docs, prepend=0)
        deltas[starts] = docs[starts]
        weights32 = weights.astype(np.float32)
        posting_lengths = self._doc_lengths[docs]
        block_stats = np.rec.fromarrays((
            ends - starts,
            docs[ends - 1],
            np.maximum.reduceat(weights, starts),
            np.add.reduceat(weights32.astype(np.float64), starts),
            np.minimum.reduceat(weights32, starts) == np.maximum.reduceat(weights32, starts),
            np.minimum.reduceat(np.where(posting_lengths > 0, posting_lengths, _NO_LENGTH), starts),
            np.maximum.reduceat(posting_lengths, starts),
        ))
        return _Blocks(
            terms=self._texts(keys[term_starts]), term_sizes=term_sizes, term_blocks=-(-term_sizes // size),
            first_docs=docs[term_starts], deltas=deltas, weights=weights32, values=values,
            value_size=self.value_size, block_stats=block_stats, compression=self._codec._compression,
        )

    def _texts(self, keys: np.ndarray) -> Iterator[bytes]:
        """Yield the bytes of each term key, in order."""
        if self.gram is None:
            names = self._names
            return (names[k] for k in keys.tolist())
        size = self.gram
        return (gram_text(k, size).encode("utf-8") for k in keys.tolist())


class _Positioned:
    """A file being written that keeps its own position, so that ``tell`` asks no
    system call; everything else goes to the file."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self._position = file.tell()

    def write(self, data: Any) -> int:
        written = self._file.write(data)
        self._position += written
        return written

    def tell(self) -> int:
        return self._position

    def seek(self, *args: Any) -> int:
        self._position = self._file.seek(*args)
        return self._position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


# Fields of at least this many postings are encoded by several processes (with more
# than one): below it a fork costs more than it saves.
PARALLEL_POSTINGS = 1_000_000


@dataclass
class _Gaps:
    """A positions field's values in posting order: each posting's gaps between its
    positions, one posting after another, and where each posting's gaps end."""

    gaps: np.ndarray
    ends: np.ndarray

    def block(self, at: int, count: int) -> tuple[tuple[int, ...], ...]:
        """Return the values of ``count`` postings from ``at``, as the codec stores them."""
        start = int(self.ends[at - 1]) if at else 0
        ends = (self.ends[at : at + count] - start).tolist()
        flat = self.gaps[start : start + ends[-1]].tolist()
        return tuple(tuple(flat[a:b]) for a, b in zip([0, *ends], ends, strict=False))


@dataclass
class _Blocks:
    """Postings of a field's terms in (term, document) order, cut into Whoosh's
    blocks: what :func:`_encode` turns into bytes."""

    terms: Iterator[bytes]  # each term's bytes, in order
    term_sizes: np.ndarray  # each term's postings
    term_blocks: np.ndarray  # and blocks
    first_docs: np.ndarray
    deltas: np.ndarray  # each posting's document, delta-encoded within its block
    weights: np.ndarray  # float32, as Whoosh stores them
    values: Any  # one bytes of fixed-size values, a list of bytes, positions' gaps, or None
    value_size: int | None
    block_stats: np.recarray  # per block: size, last document, max and total weight,
    # whether all weights are the same, min and max length
    compression: int


# A range's postings bytes, and each of its terms' bytes and terms-table info.
Encoded = tuple[bytes, list[tuple[bytes, bytes]]]


def _encode(blocks: _Blocks) -> Encoded:
    """Return the postings bytes of the terms and each term's bytes and terms-table
    info, its offset counted from the start of those bytes."""
    size = blocks.value_size or 0  # of a fixed-size value
    deltas_list, weights_list, values = blocks.deltas.tolist(), blocks.weights.tolist(), blocks.values
    block_stats = iter(blocks.block_stats.tolist())
    comp = blocks.compression
    out: list[bytes] = []
    offset = 0
    infos: list[tuple[bytes, bytes]] = []
    at = 0
    terms = zip(
        blocks.terms, blocks.term_sizes.tolist(), blocks.term_blocks.tolist(), blocks.first_docs.tolist(), strict=True
    )
    for term, df, count, first_doc in terms:
        info = W3TermInfo()
        chunks = [WHOOSH3_HEADER_MAGIC]
        total, minlength, maxlength, maxweight = 0.0, None, 0, 0.0
        for block in range(count):
            n, last_id, block_maxweight, block_total, same_weights, block_min, block_max = next(block_stats)
            block_weights = weights_list[at : at + n]
            if same_weights:
                mini_weights: Any = None if block_weights[0] == 1.0 else block_weights[0]
            else:
                mini_weights = tuple(block_weights)
            if values is None:
                mini_values: Any = None
            elif isinstance(values, _Gaps):
                mini_values = values.block(at, n)
            elif isinstance(values, list):
                mini_values = tuple(values[at : at + n])
            else:
                mini_values = values[at * size : (at + n) * size]
            data = dumps((tuple(deltas_list[at : at + n]), mini_weights, mini_values), 2)
            if comp:
                data = zlib.compress(data, comp)
            block_min = None if block_min == _NO_LENGTH else block_min
            stats = (n, last_id, block_maxweight, comp, length_to_byte(block_min), length_to_byte(block_max))
            head = dumps(stats, 2)
            chunks += (pack_int(-(len(head) + len(data)) if block == count - 1 else len(head) + len(data)), head, data)
            # The term's statistics over its blocks, as W3TermInfo.add_block keeps them.
            total += block_total
            if block_min is not None:
                minlength = block_min if minlength is None else min(minlength, block_min)
            maxlength = max(maxlength, block_max)
            maxweight = max(maxweight, block_maxweight)
            at += n
        info._weight, info._df, info._minid, info._maxid = total, df, first_doc, last_id
        info._minlength, info._maxlength, info._maxweight = minlength, maxlength, maxweight
        written = b"".join(chunks)
        info.set_extent(offset, len(written))
        out.append(written)
        offset += len(written)
        infos.append((term, info.to_bytes()))
    return b"".join(out), infos


_encoding: _FieldPostings | None = None  # the field a forked encoder encodes ranges of


def _encode_range(low: int | None, high: int | None) -> Encoded:
    """In a forked encoder: sort and encode a range of the field it inherited."""
    assert _encoding is not None
    return _encode(_encoding._blocks(low, high))


def _encoded(postings: _FieldPostings, ranges: list[tuple[int | None, int | None]]) -> Iterator[Encoded]:
    """Yield the encoded ranges in order: the first encoded here, the others by forked
    processes meanwhile (they inherit ``postings`` and send back only bytes)."""
    global _encoding
    if len(ranges) == 1:
        yield _encode(postings._blocks(*ranges[0]))
        return
    _encoding = postings
    try:
        pool = multiprocessing.get_context("fork").Pool(len(ranges) - 1)
    finally:
        _encoding = None
    try:
        others = [pool.apply_async(_encode_range, bounds) for bounds in ranges[1:]]
        yield _encode(postings._blocks(*ranges[0]))
        for other in others:
            yield other.get()
    finally:
        pool.terminate()
        pool.join()


# A block's minimum length ignores documents without one; this stands for none.
_NO_LENGTH = np.iinfo(np.int64).max


class ArrayWriter(SegmentWriter):
    """Whoosh's segment writer, with postings held as arrays (see the module's text).

    Use it as Whoosh's writer for a new segment: ``add_document`` (or Whoosh's
    ``update_document`` and ``delete_by_term``, which delete in the index's other
    segments), then ``commit`` or ``cancel`` (a context manager, as Whoosh's writers
    are). It never merges other segments.

    :param procs: processes that analyse documents; with more than one, batches of
        ``batchsize`` documents go to a pool of forked workers, and this process
        appends their postings in document order.
    :param pool: the workers' pool (:func:`analysis_pool`) when another owns it, to
        be used and left running; by default the writer starts its own.
    """

    def __init__(
        self, ix: Any, *, procs: int = 1, batchsize: int = 16, pool: Pool | None = None, **kwargs: Any
    ) -> None:
        super().__init__(ix, codec=kwargs.pop("codec", None) or ReplyCodec(), **kwargs)
        # The postings and the terms table are asked their position once a term, twice
        # for the table: a system call each, a tenth of a build.
        for structfile in (self.fieldwriter._postfile, self.fieldwriter._tindex.dbfile):
            structfile.file = _Positioned(structfile.file)
        self._analysers = _analysers(self.schema)
        self._postings: dict[str, _FieldPostings] = {}
        self._lengths: dict[str, dict[int, int]] = {}
        self.postings = 0  # held so far, to be written at commit
        self._batchsize = batchsize
        self._batch: list[dict[str, Any]] = []
        self._pending: deque[tuple[list[dict[str, Any]], AsyncResult]] = deque()
        self._ahead = 2 * procs  # batches handed out and not yet appended
        self._procs = procs
        self._pool: Pool | None = pool
        self._owns_pool = pool is None
        if procs > 1 and pool is None:
            try:
                self._pool = analysis_pool(self.schema, procs)
            except BaseException:  # no pool: release what Whoosh's writer holds (its lock)
                super().cancel()
                raise

    def add_document(self, **fields: Any) -> None:
        """Add a document: its postings go to arrays, its stored values, lengths and
        columns to Whoosh's per-document writer, as Whoosh's writer gives them."""
        self._check_state()
        names = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(self.schema, names)
        doc = {name: fields[name] for name in names if fields[name] is not None}
        if self._pool is None:
            self._append(doc, _analyse(self._analysers, doc))
            return
        self._batch.append(doc)
        if len(self._batch) >= self._batchsize:
            self._hand_out()

    def commit(self) -> None:
        """Write the segment beside the index's others, which it never merges: a merge
        would hand their postings to Whoosh's pool, which this writer does not write."""
        self._check_state()
        if self._pool is not None:
            try:
                self._hand_out()
                while self._pending:
                    self._take_back()
            except BaseException:  # a worker's error surfaces here: nothing commits
                self.cancel()
                raise
            self._stop_pool(terminate=False)
        super().commit(mergetype=NO_MERGE)

    def cancel(self) -> None:
        self._stop_pool(terminate=True)
        super().cancel()

    def _stop_pool(self, *, terminate: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._owns_pool:  # a lent pool is stopped by its owner
            _stop(pool, terminate=terminate)

    def _hand_out(self) -> None:
        """Give the batch to the workers; append the oldest batch they analysed once
        enough are under way."""
        if self._batch and self._pool is not None:
            indexed = [{n: v for n, v in doc.items() if n in self._analysers} for doc in self._batch]
            self._pending.append((self._batch, self._pool.apply_async(_analyse_batch, (indexed,))))
            self._batch = []
        while len(self._pending) > self._ahead:
            self._take_back()

    def _take_back(self) -> None:
        docs, result = self._pending.popleft()
        try:
            batch = result.get()
        except Exception:
            # A worker's error. Let the other batches finish before the pool is stopped:
            # a worker terminated while it sends a result leaves half a message in the
            # pool's result pipe, and the pool's result thread, reading it, never ends.
            for _, other in self._pending:
                other.wait()
            raise
        for doc, analysed in zip(docs, batch, strict=True):
            self._append(doc, analysed)

    def _append(self, doc: dict[str, Any], analysed: dict[str, Analysed]) -> None:
        """Append one analysed document: the next document number."""
        schema, perdoc, docnum = self.schema, self.perdocwriter, self.docnum
        perdoc.start_doc(docnum)
        try:
            for name, value in doc.items():
                field = schema[name]
                length = 0
                if name in analysed:
                    postings = self._postings.get(name)
                    if postings is None:
                        postings = self._postings[name] = _FieldPostings(self._analysers[name])
                    postings.add(docnum, analysed[name])
                    self.postings += len(analysed[name][0])
                    length = analysed[name][3]
                    if length:
                        self._lengths.setdefault(name, {})[docnum] = length
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        for name in sorted(self._postings):
            postings = self._postings.pop(name)
            if not postings.terms:  # Whoosh starts no field without postings
                continue
            # What Whoosh's writer reads back as each posting's document length: the
            # length as its column stores it (one byte), 0 for a field without lengths.
            lengths = np.zeros(self.docnum, dtype=np.int64)
            for docnum, length in self._lengths.pop(name, {}).items():
                lengths[docnum] = byte_to_length(length_to_byte(length))
            fieldwriter.start_field(name, postings.field)
            postings.write(fieldwriter, self.codec, lengths, procs=self._procs)
            fieldwriter.finish_field()
        fieldwriter.close()


def _analysers(schema: Any) -> dict[str, FieldAnalyser]:
    return {name: FieldAnalyser(field) for name, field in schema.items() if field.indexed}


def _analyse(analysers: dict[str, FieldAnalyser], doc: dict[str, Any]) -> dict[str, Analysed]:
    """Return the postings of a document's indexed fields, by field name."""
    return {name: analysers[name].analyse(value) for name, value in doc.items() if name in analysers}


def analysis_pool(schema: Any, procs: int) -> Pool:
    """Return a pool of ``procs`` forked workers that analyse documents of ``schema``
    (forked: they inherit the loaded dictionary)."""
    return multiprocessing.get_context("fork").Pool(procs, initializer=_start_worker, initargs=(schema,))


def _stop(pool: Pool, *, terminate: bool) -> None:
    """Stop a pool: at once, or once its workers are done."""
    if terminate:
        pool.terminate()
    else:
        pool.close()
    pool.join()


_worker_analysers: dict[str, FieldAnalyser] = {}  # a worker's, set when it starts


def _start_worker(schema: Any) -> None:
    _worker_analysers.update(_analysers(schema))


def _analyse_batch(docs: list[dict[str, Any]]) -> list[dict[str, Analysed]]:
    """In a worker: analyse a batch of documents."""
    return [_analyse(_worker_analysers, doc) for doc in docs]




@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Keep SIGINT pending in this thread until the block ends.

    Ctrl-C while a pool starts its threads would raise in ``Pool()``, leaving a pool
    that nothing can stop: at exit its worker handler forks new workers as the old ones
    are terminated, and those outlive the build. Held, the interrupt comes once the
    writer that owns the pool is in place, and cancelling it stops the pool.
    """
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


class SegmentedWriter:
    """Writes documents into an index as array segments of bounded size: an
    :class:`ArrayWriter` holds every posting of its segment in memory until it commits
    (about 45 bytes each with the sorting; a generated reply has about 4,300), so a new
    segment starts once one holds ``max_postings``.

    A context manager: commits on leaving, cancels the segment being written on an
    error (the segments already committed stay; the build's generation is discarded).
    """

    def __init__(self, ix: Any, *, procs: int = 1, max_postings: int = 40_000_000) -> None:
        self._ix = ix
        self._procs = procs
        self._max = max_postings
        self._writer: ArrayWriter | None = None
        self._pool: Pool | None = None  # the workers of every segment: their caches stay warm

    def add_document(self, **fields: Any) -> None:
        self._current().add_document(**fields)
        self._segment_full()

    def update_document(self, **fields: Any) -> None:
        """Add a document in place of those with its unique id in the segments written
        before this one (Whoosh's ``update_document``)."""
        self._current().update_document(**fields)
        self._segment_full()

    def delete_by_term(self, fieldname: str, text: str) -> int:
        """Delete the documents of the segments written before this one that hold the term."""
        return self._current().delete_by_term(fieldname, text)

    def _current(self) -> ArrayWriter:
        if self._writer is None:
            with _interrupts_held():
                if self._pool is None and self._procs > 1:
                    self._pool = analysis_pool(self._ix.schema, self._procs)
                self._writer = ArrayWriter(self._ix, procs=self._procs, pool=self._pool)
        return self._writer

    def _segment_full(self) -> None:
        if self._writer is not None and self._writer.postings >= self._max:
            self._commit_segment()

    def commit(self) -> None:
        """Write the last segment and stop the workers."""
        try:
            self._commit_segment()
        except BaseException:
            self._stop_pool(terminate=True)
            raise
        self._stop_pool(terminate=False)

    def cancel(self) -> None:
        """Cancel the segment being written and stop the workers."""
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.cancel()
        finally:
            self._stop_pool(terminate=True)

    def _commit_segment(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.commit()

    def _stop_pool(self, *, terminate: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool, terminate=terminate)

    def __enter__(self) -> SegmentedWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.cancel()
