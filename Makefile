# MLRange: `make run` serves the platform, `make test` checks everything.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MLRANGE_RUNTIME ?= /opt/mlrange/runtime
RUNTIME_PYTHON ?= /usr/bin/python3.11
export MLRANGE_RUNTIME
# The settings keep DEBUG off unless it is set; these targets are local runs (production sets
# DEBUG=0 and SECRET_KEY in its environment), so they turn it on unless told otherwise.
export DEBUG ?= 1
PIP_QUIET := --quiet --disable-pip-version-check

.PHONY: run test lint typecheck pytest check-labs bench venv runtime system-deps migrate content clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/pip install $(PIP_QUIET) -e ".[dev]" 2>&1 | { grep -v "is ignored" || true; }; test $${PIPESTATUS[0]} -eq 0
	touch $@

venv: $(BIN)/.installed

# The sandbox runtime: its own virtualenv, from a Python the unprivileged sandbox user can run.
$(MLRANGE_RUNTIME)/.installed: requirements/runtime.txt
	@mkdir -p $(dir $(MLRANGE_RUNTIME)) 2>/dev/null || { echo "Cannot create $(MLRANGE_RUNTIME): set MLRANGE_RUNTIME to a world-readable folder you can write."; exit 1; }
	@test -x $(RUNTIME_PYTHON) || { echo "$(RUNTIME_PYTHON) not found: the sandbox runtime needs a system Python 3.11 outside any home folder (Debian: apt-get install python3.11-venv)."; exit 1; }
	$(RUNTIME_PYTHON) -m venv $(MLRANGE_RUNTIME)
	$(MLRANGE_RUNTIME)/bin/pip install $(PIP_QUIET) -r requirements/runtime.txt 2>&1 | { grep -v "is ignored" || true; }; test $${PIPESTATUS[0]} -eq 0
	@# matplotlib's font list, built once here: every sandbox sees it read-only (mlrange.sandbox.config)
	MPLCONFIGDIR=$(MLRANGE_RUNTIME)/share/mlrange/matplotlib $(MLRANGE_RUNTIME)/bin/python -c "import matplotlib.font_manager"
	chmod -R a+rX $(MLRANGE_RUNTIME)
	touch $@

runtime: $(MLRANGE_RUNTIME)/.installed

system-deps:
	@scripts/system-deps.sh $(SYSTEM_DEPS_FLAGS)

migrate: venv
	$(BIN)/python manage.py migrate --noinput -v0

content: migrate runtime
	$(BIN)/python manage.py load_curriculum
	$(BIN)/python manage.py build_lab_assets

run: SYSTEM_DEPS_FLAGS=
run: system-deps venv runtime content
	@scripts/run.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy platform

pytest: venv runtime
	$(BIN)/pytest $(PYTEST_ARGS)

test: SYSTEM_DEPS_FLAGS=--browser
test: system-deps venv runtime lint typecheck pytest check-labs
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
	  echo "Database-layer tests again on the embedded SQLite default:"; \
	  env -u DATABASE_URL $(BIN)/pytest -q -m "not sandbox and not integration and not e2e and not slow" -p no:cacheprovider; \
	fi

# Every lab's reference, naive, starter and no-op solutions graded through the real sandbox.
CHECK_LABS_ARGS ?= --seeds 1,2,3
check-labs: venv runtime migrate
	$(BIN)/python manage.py check_labs $(CHECK_LABS_ARGS)

bench: venv runtime
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
