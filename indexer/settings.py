"""The tunables of searching, in one place: each with its default and its help.

A deployment sets them in the instance ``config.py`` (``QUERY_SECONDS = 3``), in the
environment (``REPLY_ARCHIVE_QUERY_SECONDS=3``) or, in tests, in the dict given to
``create_app``. The README's settings table lists every one of them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "REPLY_ARCHIVE_"


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help}, repr=not secret)


@dataclass(frozen=True)
class Settings:
    """How much work one request may do and how much an open index keeps in memory."""

    query_seconds: float = _setting(
        5.0, "Seconds a query may match for; past them it stops and answers with what it found, saying so."
    )
    per_page: int = _setting(20, "Results on a page when the request does not say.")
    max_per_page: int = _setting(100, "The largest page a request may ask for (per_page).")
    max_selected: int = _setting(50, "Values of one facet a request may select at once.")
    slow_queries: int = _setting(
        2, "Queries matched by Whoosh's per-document matchers (proximity) that may run at once."
    )
    pool_size: int = _setting(8, "Idle searchers kept open per index generation.")
    match_cache_size: int = _setting(64, "Queries whose matches each index generation remembers.")
    cached_postings: int = _setting(
        4_000_000, "Postings of read terms kept in memory across queries (16 bytes each)."
    )
    backend: str = _setting("whoosh", "The search engine: whoosh (the index folder) or opensearch (a cluster).")
    opensearch_url: str = _setting(
        "http://127.0.0.1:9200", "The cluster's nodes, comma-separated (http:// or https://)."
    )
    opensearch_user: str = _setting("", "The cluster user (HTTP basic authentication); empty for none.")
    opensearch_password: str = _setting("", "That user's password.", secret=True)
    opensearch_verify: bool = _setting(True, "Verify the cluster's TLS certificate (false only for a test cluster).")
    opensearch_ca: str = _setting("", "A CA bundle to verify the cluster's certificate with; empty for the system's.")
    opensearch_prefix: str = _setting(
        "reply-archive", "The prefix of the archive's index names and alias on the cluster."
    )
    opensearch_shards: int = _setting(2, "Primary shards of a new index generation on the cluster.")
    opensearch_replicas: int = _setting(1, "Replicas of each shard (1 or more keeps serving when a node dies).")

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.type in ("str", "bool"):
                if type(value).__name__ != spec.type:
                    raise SettingError(spec.name, value)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise SettingError(spec.name, value)
            if spec.type == "int" and not isinstance(value, int):
                raise SettingError(spec.name, value)
        if not 1 <= self.per_page <= self.max_per_page:
            raise SettingError("per_page", self.per_page)
        if self.slow_queries < 1:  # none would let no proximity query ever run
            raise SettingError("slow_queries", self.slow_queries)
        if self.backend not in BACKENDS:
            raise SettingError("backend", self.backend)
        if not self.opensearch_prefix or self.opensearch_prefix != self.opensearch_prefix.lower():
            raise SettingError("opensearch_prefix", self.opensearch_prefix)  # index names are lower case
        if self.opensearch_shards < 1:
            raise SettingError("opensearch_shards", self.opensearch_shards)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``REPLY_ARCHIVE_<NAME>`` variables of ``environ``,
        then from a config mapping's ``<NAME>`` keys (Flask's config), which win.

        :raise SettingError: naming the setting whose value is not valid.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            name = spec.name.upper()
            if name in config:
                values[spec.name] = config[name]
            elif ENV_PREFIX + name in environ:
                text = environ[ENV_PREFIX + name]
                try:
                    values[spec.name] = _parse(spec.type, text)
                except ValueError:
                    raise SettingError(spec.name, text, ENV_PREFIX + name) from None
        return cls(**values)


def _parse(kind: Any, text: str) -> Any:
    """Return an environment variable's text as a setting of this type."""
    if kind == "str":
        return text
    if kind == "bool":
        if text.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if text.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    return float(text) if kind == "float" else int(text)


BACKENDS = ("whoosh", "opensearch")


SETTINGS = tuple(dataclasses.fields(Settings))


class SettingError(ValueError):
    """A setting's value is not valid."""

    def __init__(self, name: str, value: Any, source: str | None = None) -> None:
        self.name = name
        where = f" (from {source})" if source else ""
        super().__init__(f"setting {name.upper()}{where}: {value!r} is not a valid value")
