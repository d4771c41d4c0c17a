# Two commands matter: `make run` and `make test`. Both work on a fresh clone.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Django 6 needs Python 3.12+; use the first one this machine has.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

# The compiled catalogs are committed; refresh them when gettext is there to do it.
COMPILE_MESSAGES = if command -v msgfmt >/dev/null; then $(BIN)/python manage.py compilemessages --ignore=.venv -v 0; else echo "msgfmt not found: using the committed .mo catalogs"; fi

.PHONY: run test install lint check messages bench-queue bench-sla clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	mkdir -p var
	$(COMPILE_MESSAGES)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py load_demo_sla
	$(BIN)/python manage.py load_demo_mailbox
	$(BIN)/python manage.py load_demo_articles
	$(BIN)/python manage.py load_demo_surveys
	$(BIN)/python manage.py load_demo_phone
	$(BIN)/python manage.py rebuild_report_facts
	$(BIN)/honcho -f Procfile start

# Two test processes (pytest-xdist) by default, one per core of the CI machine: the suite
# waits on servers and browsers as much as it computes. PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2

test: install
	$(COMPILE_MESSAGES)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy helpdesk people tickets knowledge mailboxes sla surveys reports portal live phone chat api webhooks

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

messages: install
	$(BIN)/python manage.py makemessages -l pt_BR -l pl --ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests --ignore=bench --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench-queue: install
	$(BIN)/python bench/bench_workspace.py

bench-sla: install
	$(BIN)/python bench/bench_sla.py

clean:
	rm -rf $(VENV) var staticfiles
