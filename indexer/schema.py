"""The one definition of the index's fields and facets.

Search, the facet sidebar, the JSON API and the build all loop over :data:`FACETS`; no
template or view keeps a second list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from reply_archive.archive.model import session_label_of

from .analysis import ngram_analyzer, word_analyzer


@dataclass(frozen=True)
class FacetSpec:
    """A facet: its URL and field name and the record attribute it reads.

    Display labels live in ``data/tables/labels.toml``, not in code.
    """

    name: str
    attr: str  # a Reply attribute, dotted for a nested one (assembly.level)
    order: str = "count"  # count: most frequent first; value_desc / value_asc: by value
    ranges: bool = False  # a selected value may be a range, 2019-2022
    # Reads the broader value an indexed one belongs to, where a selected value may be
    # that broader value and so pick all of them (session=十三届二次: every body's).
    broader: Callable[[str], str | None] | None = None


FACETS: tuple[FacetSpec, ...] = (
    # The 届次 with its body (青溪市政协十二届一次); a bare 届次 selects it in every body.
    FacetSpec("session", "qualified_session", broader=session_label_of),
    FacetSpec("department", "department"),
    FacetSpec("topic", "topic"),
    FacetSpec("subtopic", "topics"),
    FacetSpec("year", "year", order="value_desc", ranges=True),
    FacetSpec("result", "result_category", order="value_asc"),
    FacetSpec("role", "department_role"),
    FacetSpec("proposer_kind", "proposer_kind"),
    FacetSpec("channel", "channel"),
    FacetSpec("assembly_level", "assembly.level"),
    FacetSpec("review", "review_flags"),  # what needs a person's eye (待核对)
    FacetSpec("assembly", "assembly.name"),  # the body: 青溪市政协, 全国人大
)
FACET_NAMES = tuple(f.name for f in FACETS)
# The fields of whole values: targets of the query language's field prefixes
# (proposer: number:, and session: for a bare 届次, which the facet holds qualified by
# its body), a marker of the replies that make commitments, and the facets.
VALUE_FIELDS = ("proposers", "numbers", "session_labels", "commitments", *FACET_NAMES)

# Bump whenever fields or analysis code change: an index built by another version is
# stale and `reply-archive index` rebuilds it. (The words depend on the domain dictionary
# too: a build keeps its text, and a change re-analyses the replies it affects,
# indexer/sync.py.)
INDEX_VERSION = 16

# BM25F field weights: a word in the title says more about a reply than one in its body.
WORD_FIELDS = {"title": 3.0, "proposal_title": 2.5, "headings": 2.0, "body": 1.0}
# Every field analysed into words: the weighted ones, and the department's names and
# aliases (``department:`` queries).
WORD_TEXT_FIELDS = (*WORD_FIELDS, "department_names")
EXACT_FIELD = "exact"  # character bigrams; a phrase is checked in the folded texts
CHAR_FIELD = "chars"  # single characters, for one-character exact queries


def build_schema(*, subwords: bool = True) -> Schema:
    """Return the index schema, facet fields derived from :data:`FACETS`.

    :param subwords: index the dictionary sub-words of long words too (the measured
        default, see BENCHMARKS.md); False gives precise words only.
    """
    words = word_analyzer(subwords=subwords)
    # Positions are kept only where a query reads them: the body's, for proximity
    # (``"…"~N``). Exact wording is checked in the folded texts, and term queries and
    # BM25F need frequencies alone; positions cost a quarter of the index (BENCHMARKS.md).
    fields = {
        "id": ID(stored=True, unique=True, sortable=True),  # a column: ids by document number
        "display": STORED,  # what a hit shows, so search never reads the archive
        "date": ID(stored=False, sortable=True),
        "number_order": ID(stored=False, sortable=True),  # the smallest proposal number
        EXACT_FIELD: TEXT(analyzer=ngram_analyzer(2), phrase=False),
        CHAR_FIELD: TEXT(analyzer=ngram_analyzer(1), phrase=False),
    }
    for name, boost in WORD_FIELDS.items():
        fields[name] = TEXT(
            analyzer=words, stored=(name == "body"), field_boost=boost, phrase=(name == "body"),
            multitoken_query="and",
        )
    for name in WORD_TEXT_FIELDS:
        fields.setdefault(name, TEXT(analyzer=words, phrase=False))
    for name in VALUE_FIELDS:
        fields[name] = KEYWORD(commas=True, scorable=False, lowercase=False)
    return Schema(**fields)
