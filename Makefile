# Two commands do all set-up on a fresh Debian machine: `make test` and `make demo`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the tests and the demo use (C# core tests, browser tests, video tools).
DEB_PACKAGES := mono-mcs mono-devel nunit-console libnunit-cil-dev ffmpeg chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: setup deps-debian test demo lint clean

setup: deps-debian $(STAMP)

$(STAMP): pyproject.toml Makefile tools/package-lock.json coach_backend/dashboard/web/package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	# The exact CPU wheel first, so nothing below can pull a CUDA build.
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev]'
	# mediapipe declares numpy<2/jax/protobuf<5 but runs with what pyproject installs.
	$(PIP) --no-deps mediapipe==0.10.21
	# Node tools for tests (Khronos glTF validator), pinned by tools/package-lock.json.
	cd tools && npm ci --no-audit --no-fund --silent
	# Dashboard build tools and the Playwright driver for the browser test; the built bundle
	# itself is committed, so serving needs no npm.
	cd coach_backend/dashboard/web && npm ci --no-audit --no-fund --silent
	touch $(STAMP)

deps-debian:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) -m coach_backend.demo

lint: setup
	$(VENV)/bin/ruff check coach_backend tests

clean:
	rm -rf $(VENV) out
