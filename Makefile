# Lingtan VPP: the two commands are `make demo` and `make test`.
# Works on a fresh Debian machine with Python 3.11 and access to the package registries.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

# Coverage floor enforced by `make test` (and so by CI). Raise it as code lands; never lower
# it to make a change pass (92 % measured when it was raised to 90).
COVERAGE_FLOOR := 90

SYSTEM_TOOLS := mosquitto mosquitto_sub mbpoll
APT_PACKAGES := mosquitto mosquitto-clients mbpoll

PYTEST_ARGS ?=

.PHONY: demo test pytest lint fmt bench docs tools venv install-demo install-dev clean

demo: install-demo
	$(BIN)/vpp demo

test: install-dev tools lint pytest

venv: $(BIN)/python

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "python3-venv is missing: installing it with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	    rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "cannot create $(VENV): install python3-venv (sudo apt-get install python3-venv)"; exit 1; \
	  fi; }
	$(PIP) install -U "pip>=24"

install-demo: $(VENV)/.installed-demo
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[demo]"
	@touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dev]"
	@touch $@ $(VENV)/.installed-demo

# System tools the tests use. Installed with apt-get when running as root, else explained.
tools:
	@missing=""; \
	for t in $(SYSTEM_TOOLS); do \
	  command -v $$t >/dev/null 2>&1 || [ -x /usr/sbin/$$t ] || missing="$$missing $$t"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system tools:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	  else \
	    echo "missing system tools:$$missing"; \
	    echo "install them with: sudo apt-get install -y $(APT_PACKAGES)"; exit 1; \
	  fi; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
pytest: install-dev
	@$(BIN)/pytest --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS); \
	rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing the run"; exit 1; fi; \
	exit $$rc

# Every benchmark prints its ratios against a floor measured in the same run; a missed
# target makes its script exit 1, and `make bench` reports all of them before failing.
bench: install-dev
	@status=0; for script in bench/*.py; do \
	  echo "== $$script"; $(BIN)/python $$script || status=1; \
	done; exit $$status

docs: install-dev
	$(BIN)/vpp protocol asyncapi -o docs/asyncapi.yaml
	$(BIN)/vpp protocol schema -o docs/schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov var
