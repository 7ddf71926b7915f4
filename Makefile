# Two commands get a newcomer going: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv run test test-unit lint kafka-jars kafka translations admin demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

translations: venv
	$(BIN)/python -m services.devtools.i18n

# After changing page texts: refresh every package's fr/de catalogue, then translate the new lines.
i18n-update: venv
	@mkdir -p .cache; for pkg in $$(ls -d */translations | cut -d/ -f1); do \
	  $(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o .cache/$$pkg.pot $$pkg && \
	  $(BIN)/pybabel update -i .cache/$$pkg.pot -d $$pkg/translations; done

kafka-jars: venv
	$(BIN)/python -m services.devtools.kafka fetch

run: venv translations kafka-jars
	$(BIN)/python -m services.run

test: venv translations kafka-jars
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: venv translations
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared listings matching notifications monitor services bench

# Kafka's own CLI from the same jars, e.g. make kafka ARGS="topics --bootstrap-server 127.0.0.1:9092 --list"
kafka: kafka-jars
	$(BIN)/python -m services.devtools.kafka tool $(ARGS)

# make admin EMAIL=you@example.org PASSWORD='a long passphrase'
admin: venv
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || { echo "usage: make admin EMAIL=... PASSWORD=..."; exit 2; }
	$(BIN)/python -m services.admin --email "$(EMAIL)" --password "$(PASSWORD)"

# Loads demo organisations and listings into a running exchange (make run in another shell).
demo: venv
	$(BIN)/python -m services.demo

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
