"""gunicorn's settings for serving the archive: ``gunicorn -c gunicorn.conf.py`` (README: Deploying).

gunicorn reads this file from its working directory, or the one ``-c`` names. The
archive, the index and the app's own settings come from the environment as for every
command (``REPLY_ARCHIVE_DIR``, ``REPLY_ARCHIVE_INDEX``, ``REPLY_ARCHIVE_PROXIES``…);
the three below choose where and how many. Options given on gunicorn's command line win.
"""

import os

wsgi_app = "reply_archive.web.wsgi:app"
proc_name = "reply-archive"

# An address and port, or unix:/run/reply-archive/socket; the defaults are `make serve-prod`'s.
bind = os.environ.get("REPLY_ARCHIVE_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("REPLY_ARCHIVE_WORKERS", "2"))
threads = int(os.environ.get("REPLY_ARCHIVE_THREADS", "4"))
worker_class = "gthread"
# The app and jieba's dictionary load once, in the master, before the workers fork:
# they share them (about 0.6 s and 90 MB saved per worker; see web/wsgi.py).
preload_app = True

# A worker whose main loop is silent this long is restarted. It does not bound a request
# (each query stops at QUERY_SECONDS); on a stop or restart, requests under way get
# graceful_timeout to finish.
timeout = 30
graceful_timeout = 30
# gunicorn's control socket (gunicornc) has one path per user, $XDG_RUNTIME_DIR or
# ~/.gunicorn: a second server of the same user takes it over and removes it on stop.
# Signals (TERM to stop, TTIN/TTOU for workers) manage the server instead.
control_socket_disable = True

# One line per request on stdout (journald keeps it under systemd): client, time,
# request line, status, bytes, referrer, user agent, milliseconds. Behind trusted proxies
# (REPLY_ARCHIVE_PROXIES) the client is the one they forwarded for.
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# The request line must hold any search the app reads, so that a long query gets the
# app's own answer (its notice, "检索式过长，只使用了前 500 个字符") and not gunicorn's
# bare English 414. The app reads the first MAX_QUERY_CHARS = 500 characters of a query
# (indexer/query.py). Percent-encoded, a character takes at most 12 bytes (4 UTF-8
# bytes, %XX each), a Chinese one 9: the query read is at most 6,000 bytes (4,500 in
# Chinese). Method, the longest path (/api/commitments), sort, page, per_page and the
# protocol add under 100. Facet selections take the rest: `&department=` and a name of
# 20 Chinese characters is 192 bytes. gunicorn allows at most 8,190 (0 means unlimited,
# which its parser would read into memory without bound), which leaves room for 10 such
# selections beside the longest query read (18 beside a 500-character Chinese one). No
# URL the app makes holds more of a query: its links carry a query only as far as the
# index reads it (web/params.py), and a longer text pasted into a search box goes to
# 查找先例 in the body of a POST (web/static/app.js). The app accepts up to MAX_SELECTED
# (50) values per facet, more than any request line holds: a line longer than this
# still gets gunicorn's 414. nginx's default line buffer (8k) is the same size.
limit_request_line = 8190

# Request bodies are not bounded here: a text pasted into 查找先例, up to MAX_PASTE_CHARS
# (5,000) characters, is a POST body of up to about 60 KB (less in Chinese), which the
# app reads, refusing a body over web/params.py's MAX_BODY_BYTES (256 KB) with a 413.

# Forwarded headers are believed in one place, the app's REPLY_ARCHIVE_PROXIES
# (web/serving.py). gunicorn would otherwise take X-Forwarded-Proto, and headers setting
# SCRIPT_NAME, from any connection from 127.0.0.1, whatever that setting says.
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""
