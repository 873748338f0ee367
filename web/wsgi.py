"""The WSGI application for a production server: ``gunicorn -c gunicorn.conf.py
reply_archive.web.wsgi:app`` (README, Deploying).

Preloaded (``preload_app`` in gunicorn.conf.py), the app and jieba's dictionary load
once in the master before the workers fork, so every worker shares them (about 0.6 s
and 90 MB saved per worker) and no user waits for a cold dictionary. Each worker opens
the index on its first request.
"""

from reply_archive.indexer.analysis import segmenter

from . import create_app

app = create_app()
segmenter()
