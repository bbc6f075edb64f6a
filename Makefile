# The two commands: `make run` (the service with live data) and `make test`.
# Every recipe that reaches the services reads the project's variables (PG_PORT, REDIS_PORT, .env, ...)
# through scripts/lib.sh, as the scripts do (tests/test_make.py checks it).
SHELL := /bin/bash
VENV ?= .venv
FLASK := $(VENV)/bin/flask --app service.app

.PHONY: run test stop status psql setup migrate lint format web web-types bench-ingest bench-pipeline bench-api bench-soak bench-web

run:            ## set everything up and run API, worker and scheduler until Ctrl-C
	@scripts/run.sh

test:           ## set everything up; ruff, mypy and pytest with coverage
	@scripts/test.sh

stop:           ## stop the private PostgreSQL and Redis
	@scripts/services.sh stop

status:         ## are the private services running?
	@scripts/services.sh status

psql:           ## a psql shell on the project's database
	@source scripts/lib.sh && exec $$PG_BIN/psql "$$DATABASE_URL"

setup:          ## install and start everything, apply migrations
	@scripts/setup.sh && . scripts/lib.sh && $(FLASK) db upgrade

migrate:        ## apply pending migrations
	@. scripts/lib.sh && $(FLASK) db upgrade

lint:           ## ruff, mypy, and every test module imports (mypy does not read tests/)
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy \
		&& $(VENV)/bin/pytest --collect-only -q -p no:cacheprovider >/dev/null

format:         ## apply ruff's fixes and formatting
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

web:            ## build the web client into web/dist (make run does it)
	@scripts/web.sh build

web-types:      ## regenerate web/src/api/schema.d.ts from the service's OpenAPI document
	@scripts/venv.sh && scripts/web.sh types

bench-ingest:   ## dataset M's listing snapshots through the ingest path (last line: RESULT ingest ...)
	@scripts/setup.sh && . scripts/lib.sh && $(VENV)/bin/python -m bench.ingest

bench-pipeline: ## dataset M: backfill, one new day, vs pandas (last line: RESULT pipeline ...)
	@scripts/setup.sh && . scripts/lib.sh && $(VENV)/bin/python -m bench.pipeline

bench-api:      ## gunicorn + wrk on dataset M, with the bare-Flask ceiling (last line: RESULT api ...)
	@scripts/setup.sh && . scripts/lib.sh && $(VENV)/bin/python -m bench.api

bench-soak:     ## 5 min of mixed traffic through a Redis and a PostgreSQL restart (last line: RESULT soak ...)
	@scripts/setup.sh && . scripts/lib.sh && $(VENV)/bin/python -m bench.soak

bench-web:      ## Lighthouse on the leaderboard and a box page of the running service (last lines: RESULT web ...)
	@scripts/web.sh install && . scripts/lib.sh && $(VENV)/bin/python -m bench.web

help:
	@grep -E '^[a-z-]+:.*##' Makefile | sed 's/:.*##/\t/'
