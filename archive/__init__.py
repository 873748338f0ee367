"""The archive: record model, cleaning, parsing and the Markdown store.

The archive is the source of truth. It imports nothing from ``indexer`` or ``web``.
"""
