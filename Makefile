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

.PHONY: run test lint typecheck pytest check-labs bench venv runtime system-deps migrate content clean lock

# Both virtualenvs install exactly their lock file (versions and hashes; `make lock` writes them),
# then the project itself without dependencies: nothing is resolved at install time.
$(BIN)/.installed: pyproject.toml requirements/web.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_QUIET) --require-hashes -r requirements/web.lock 2>&1 | { grep -v "is ignored" || true; }; test $${PIPESTATUS[0]} -eq 0
	$(BIN)/pip install $(PIP_QUIET) --no-deps --no-build-isolation -e . 2>&1 | { grep -v "is ignored" || true; }; test $${PIPESTATUS[0]} -eq 0
	touch $@

venv: $(BIN)/.installed

# The sandbox runtime: its own virtualenv, from a Python the unprivileged sandbox user can run.
$(MLRANGE_RUNTIME)/.installed: requirements/runtime.lock
	@mkdir -p $(dir $(MLRANGE_RUNTIME)) 2>/dev/null || { echo "Cannot create $(MLRANGE_RUNTIME): set MLRANGE_RUNTIME to a world-readable folder you can write."; exit 1; }
	@test -x $(RUNTIME_PYTHON) || { echo "$(RUNTIME_PYTHON) not found: the sandbox runtime needs a system Python 3.11 outside any home folder (Debian: apt-get install python3.11-venv)."; exit 1; }
	$(RUNTIME_PYTHON) -m venv $(MLRANGE_RUNTIME)
	$(MLRANGE_RUNTIME)/bin/pip install $(PIP_QUIET) --require-hashes -r requirements/runtime.lock 2>&1 | { grep -v "is ignored" || true; }; test $${PIPESTATUS[0]} -eq 0
	@# matplotlib's font list, built once here: every sandbox sees it read-only (mlrange.sandbox.config)
	MPLCONFIGDIR=$(MLRANGE_RUNTIME)/share/mlrange/matplotlib $(MLRANGE_RUNTIME)/bin/python -c "import matplotlib.font_manager"
	chmod -R a+rX $(MLRANGE_RUNTIME)
	touch $@

runtime: $(MLRANGE_RUNTIME)/.installed

# Lock files: requirements/web.lock (pyproject.toml's dependencies, the dev extra and the build
# backend) and requirements/runtime.lock (requirements/runtime.txt), exact versions with hashes,
# resolved by pip-tools in throwaway virtualenvs made from the Pythons that install them. Pins
# already in a lock are kept; `make lock LOCK_ARGS=--upgrade` (or `-P NAME`) moves them. The
# machine's pip configuration is ignored: PyPI, plus TORCH_WHEELS for the CPU build of torch
# (PyPI's torch is a multi-GB CUDA build: the runtime lock pins `torch==X+cpu` and its hash).
LOCK_TOOLS := pip==26.3 pip-tools==7.7.0
LOCK_INDEX_URL ?= https://pypi.org/simple
TORCH_WHEELS ?= /opt/wheels
PIP_COMPILE := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links --index-url $(LOCK_INDEX_URL) $(LOCK_ARGS)

lock:
	@ls $(TORCH_WHEELS)/torch-*+cpu-*.whl >/dev/null 2>&1 || { echo "No torch CPU wheel in TORCH_WHEELS=$(TORCH_WHEELS): set it to a folder that holds torch-$$(sed -n "s/^torch==//p" requirements/runtime.txt)+cpu for Python 3.11."; exit 1; }
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV; \
	export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 CUSTOM_COMPILE_COMMAND="make lock"; \
	for py in web:$(PYTHON) runtime:$(RUNTIME_PYTHON); do \
	  $${py#*:} -m venv "$$tmp/$${py%%:*}"; \
	  "$$tmp/$${py%%:*}/bin/pip" install --quiet $(LOCK_TOOLS); \
	done; \
	echo "Locking requirements/web.lock"; \
	"$$tmp/web/bin/pip-compile" $(PIP_COMPILE) --extra dev --build-deps-for editable \
	  -o requirements/web.lock pyproject.toml; \
	echo "Locking requirements/runtime.lock"; \
	"$$tmp/runtime/bin/pip-compile" $(PIP_COMPILE) --find-links $(TORCH_WHEELS) \
	  -o requirements/runtime.lock requirements/runtime.txt
	@! grep -qiE '^(nvidia-|triton==)' requirements/runtime.lock || { echo "requirements/runtime.lock pulled CUDA packages: torch must be the +cpu build."; exit 1; }

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
