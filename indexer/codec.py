"""The index's codec: Whoosh's W3 codec, with positions kept as tuples of gaps.

Whoosh's ``Positions`` format encodes a posting's positions as bytes (their count, then
the pickled list of gaps between them), and a W3 block pickles its values as a tuple
of those bytes. Pickle's protocol 2 writes each bytes object as a call rebuilding it
from a latin-1 string, about a dozen bytes around a value of a few: the body's
positions were 42 % of an index (17 bytes a posting). Pickled as a tuple of gap
tuples, the same positions take half that (BENCHMARKS.md).

Only the block's values change. The writer turns each value Whoosh's format makes into
its gaps when it writes a block, and the matcher turns them back into the format's
bytes when a block's values are read, so the format, every query and a merge of
segments see Whoosh's values. Segments of Whoosh's own codec are read as before.
"""

from __future__ import annotations

from pickle import dumps, loads
from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.formats import Positions
from whoosh.system import _INT_SIZE, pack_uint


def position_gaps(value: bytes) -> tuple[int, ...]:
    """Return the gaps between the positions a ``Positions`` value encodes."""
    return tuple(loads(value[_INT_SIZE:]))


def positions_value(gaps: tuple[int, ...]) -> bytes:
    """Return the ``Positions`` value of these gaps: what ``Positions.encode`` makes."""
    return pack_uint(len(gaps)) + dumps(list(gaps), 2)


class _PostingsWriter(W3PostingsWriter):
    def _mini_values(self) -> Any:
        if type(self._format) is Positions:
            return tuple(map(position_gaps, self._values))
        return super()._mini_values()


class _LeafMatcher(W3LeafMatcher):
    def _read_values(self) -> None:
        super()._read_values()
        values: Any = self._values  # type: ignore[has-type]  # set by Whoosh's untyped code
        if values and isinstance(values[0], tuple):
            self._values = tuple(map(positions_value, values))


class ReplyCodec(W3Codec):
    """Whoosh's W3 codec with a ``Positions`` field's values stored as gap tuples.

    A segment keeps the codec it was written with, so its readers use this one.
    """

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return _PostingsWriter(
            dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return _LeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)
