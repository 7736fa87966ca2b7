# submitportal: the two commands a new user needs are `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test install lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when a requirements file changed.
$(VENV)/.installed: requirements.txt requirements-dev.txt sandbox/requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# ministack (strict S3: signatures and expiry) lives in its own virtualenv: it pins another botocore.
.venv-s3/.installed: sandbox/s3.py | $(VENV)/.installed
	$(PY) -m sandbox.install_ministack
	touch $@

install: $(VENV)/.installed

## Set everything up and run the portal on the local Loculus sandbox.
# The demo runs with DEBUG on (no SECRET_KEY needed); set DEBUG=false and SECRET_KEY to try otherwise.
# It migrates the database itself, and Ctrl-C stops it (and make) quietly: see manage.py demo.
demo: export DEBUG ?= true
demo: install
	PYTHONUNBUFFERED=1 $(PY) manage.py demo

## Run every test (unit, sandbox contract, integration, browser).
test: install .venv-s3/.installed
	$(PY) -m pytest

## Run the benchmarks of issues 8, 16 and 17 (not part of the tests; ~30 minutes): results in var/bench/.
# The load measure needs PostgreSQL: BENCH_DATABASE_URL (default postgres://portal:portal@127.0.0.1:5432/submitportal_bench).
bench: install
	PYTHONUNBUFFERED=1 $(PY) bench/run_all.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var db.sqlite3
