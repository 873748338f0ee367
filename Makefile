# The two commands of the README: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
ARCHIVE ?= var/archive
INDEX ?= var/index
CHROMIUM ?= /usr/bin/chromium
WORKERS ?= 2
THREADS ?= 4

.PHONY: serve serve-prod sample-archive test check lint typecheck install chromium tesseract clean recall bench-words check-rjieba accuracy load bench bench-opensearch bench-precedents bench-ocr

# setuptools >= 81 has no pkg_resources, which jieba would otherwise import with a warning.
$(BIN)/reply-archive: setup.cfg pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=81"
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/reply-archive requirements-test.txt $(VENV)/.bench-deps
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

# The reference engines of the benchmark (tantivy; SQLite FTS5 comes with Python).
$(VENV)/.bench-deps: $(BIN)/reply-archive requirements-bench.txt
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	touch $@

install: $(BIN)/reply-archive

## serve: install, ingest the bundled sample replies, build the index, serve on $(HOST):$(PORT)
serve: sample-archive
	$(BIN)/reply-archive serve --host $(HOST) --port $(PORT) --archive $(ARCHIVE) --index $(INDEX)

## serve-prod: the same archive behind gunicorn, as README's Deploying section runs it
## (gunicorn.conf.py: preloaded, $(WORKERS) workers x $(THREADS) threads, access log on stdout)
serve-prod: sample-archive
	REPLY_ARCHIVE_DIR=$(ARCHIVE) REPLY_ARCHIVE_INDEX=$(INDEX) REPLY_ARCHIVE_BIND=$(HOST):$(PORT) \
	  REPLY_ARCHIVE_WORKERS=$(WORKERS) REPLY_ARCHIVE_THREADS=$(THREADS) $(BIN)/gunicorn -c gunicorn.conf.py

sample-archive: install
	$(BIN)/reply-archive ingest data/seed --archive $(ARCHIVE)
	$(BIN)/reply-archive ingest --sample data/samples --archive $(ARCHIVE)
	$(BIN)/reply-archive index --archive $(ARCHIVE) --index $(INDEX)

## bench: the benchmark suite over 1,000, 10,000 and 20,000 generated replies, with
## SQLite FTS5 and tantivy on the same replies and queries (about an hour on 2 cores;
## SIZES=1000,20000 to choose, REUSE=1 to measure queries again on the last build)
bench: $(VENV)/.bench-deps
	$(BIN)/python -m bench.run $(if $(SIZES),--sizes $(SIZES)) $(if $(REUSE),--reuse)

## bench-opensearch: the OpenSearch backend on a local 3-node cluster beside Whoosh, over
## 20,000 generated replies: build, index size, query latencies, memory, and a paper
## estimate for 1 and 10 million replies (SIZE=1000 for a quick run)
bench-opensearch: $(VENV)/.test-deps
	$(BIN)/python -m bench.opensearch $(if $(SIZE),--size $(SIZE))

## bench-precedents: precedent finding over 2,000 and 20,000 generated replies: latency of
## pasted texts of 20, 200 and 2,000 characters, and whether paraphrases (synonyms, a clause
## dropped, clauses swapped) find their source passage (SIZES=2000 for one size; archives
## and indexes cached under var/bench-precedents, the first 20,000 takes about 45 minutes)
bench-precedents: $(VENV)/.test-deps
	$(BIN)/python -m bench.precedents $(if $(SIZES),--size $(shell echo $(SIZES) | tr , ' '))

## bench-ocr: OCR of the project's replies rendered as scans (clean at 300 and 200 dpi, skewed,
## blurred, JPEG-compressed, sealed, on grey paper, as a TIFF) through ingestion, with RapidOCR
## and Tesseract: character error rate, fields, exact-wording recall, pages per minute
## (3 replies a condition by default, 80 pages an engine: about a quarter of an hour for
## RapidOCR at the 5-6 pages a minute of a loaded 2-core machine, Tesseract slower;
## REPLIES=30 for firmer figures, ENGINES=rapidocr
## for one engine; figures in var/bench/ocr.json)
bench-ocr: $(VENV)/.test-deps
	$(BIN)/python -m bench.ocr $(if $(REPLIES),--replies $(REPLIES)) $(if $(ENGINES),--engines $(ENGINES))

## load: 16 clients for 60 s against gunicorn over 10,000 generated replies, on 127.0.0.1
load: install
	$(BIN)/python -m bench.load

## test: lint, type checks, then the whole suite, browser tests (Debian's chromium, driven
## by Playwright), the OpenSearch tests (a 3-node cluster from Maven Central; Java 17 and
## Maven) and the benchmark smoke run included
test: $(VENV)/.test-deps chromium tesseract lint typecheck
	$(BIN)/python -m pytest --durations=15

## check: the quick loop while working: lint, type checks and every test but the browser
## tests, the OpenSearch cluster's and the slow ones (the benchmark suite's smoke run)
check: $(VENV)/.test-deps tesseract lint typecheck
	$(BIN)/python -m pytest -m "not browser and not slow and not opensearch"

LINTED := archive indexer web data bench tests

lint: $(VENV)/.test-deps
	$(BIN)/ruff check $(LINTED)

# mypy checks the code under the module names it is installed with (reply_archive.*),
# read through a farm of links to the repository's folders.
TYPECHECK := build/typecheck
typecheck: $(VENV)/.test-deps
	@rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/reply_archive
	@for d in archive indexer web data; do ln -s $(CURDIR)/$$d $(TYPECHECK)/reply_archive/$$d; done
	cd $(TYPECHECK) && MYPYPATH=. $(abspath $(BIN))/mypy --config-file $(CURDIR)/pyproject.toml \
	  --cache-dir $(CURDIR)/build/mypy-cache -p reply_archive

## recall: exact-wording recall and precision against a substring scan (real prose from
## ../shared/corpus when present, the bundled archive otherwise), with latency and size
recall: install
	$(BIN)/python -m bench.recall

## accuracy: the parser's field-by-field accuracy on real replies as published
## (../shared/real-replies when present, else tests/fixtures/pages), then over the
## fixture replies (tests/fixtures/replies), as text and rendered in every format of
## tests/formats.py, then the seed reply's full record
accuracy: $(VENV)/.test-deps
	$(BIN)/python -m bench.accuracy

## bench-words: precise-only versus sub-word indexing for word search, measured
bench-words: install
	$(BIN)/python -m bench.words

## check-rjieba: does rjieba (jieba-rs) segment token for token as our jieba does (domain
## dictionary, precise mode, sub-words), and how much faster (real replies and the shared
## corpus when present, the bundled replies otherwise); exits 1 on any difference
check-rjieba: install
	$(BIN)/python -m pip install --quiet rjieba==0.2.2
	$(BIN)/python -m bench.segmenter

# Browser tests use the system's Chromium, never a downloaded browser build.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "browser tests need Chromium at $(CHROMIUM): sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; \
	  fi; \
	fi

# The second OCR engine, tested beside RapidOCR: Debian's Tesseract with its Chinese data
# (installed when root; elsewhere its tests skip, except under CI).
tesseract:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's tesseract-ocr and its Chinese data for the OCR tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim >/dev/null; \
	  elif [ "$$CI" = true ]; then \
	    echo "CI needs Tesseract for the OCR tests: apt-get install tesseract-ocr tesseract-ocr-chi-sim" >&2; exit 1; \
	  else \
	    echo "the Tesseract OCR tests will skip: sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim" >&2; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
