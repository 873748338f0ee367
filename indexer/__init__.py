"""The index: analysis, schema, building and the search API.

The Whoosh index is derived from the archive and can always be rebuilt from it. Nothing
outside this package touches Whoosh.
"""
