# The two commands a newcomer needs: `make demo` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test run lint unit bench clean

$(STAMP): pyproject.toml constraints.txt scripts/bootstrap.sh
	scripts/bootstrap.sh $(VENV)
	touch $(STAMP)

## Set up everything and run the whole platform on simulated data, then report.
demo: $(STAMP)
	$(BIN)/jts demo

## Set up everything the tests need (PostgreSQL and Kafka included), lint, type-check and test.
test: $(STAMP)
	scripts/postgres.sh start
	scripts/kafka.sh start
	$(MAKE) --no-print-directory lint
	JTS_TEST_POSTGRES_URL="$$(scripts/postgres.sh url)" \
	JTS_TEST_KAFKA_BOOTSTRAP="$$(scripts/kafka.sh bootstrap)" $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --no-cache src tests benchmarks
	$(BIN)/ruff format --no-cache --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## Run until stopped (Ctrl-C stops it cleanly).
run: $(STAMP)
	$(BIN)/jts run

bench: $(STAMP)
	scripts/postgres.sh start
	scripts/kafka.sh start
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .jts .mypy_cache .ruff_cache .pytest_cache
