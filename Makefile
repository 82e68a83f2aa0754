# Two commands matter: `make demo` and `make test`. Both set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCALES := locales
DOMAIN := union_bot

.PHONY: setup system-deps test test-dates run demo sandbox lint fmt messages translations clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium drives the browser tests; the CJK font keeps Chinese from
# rendering as empty boxes in screenshots and charts, the emoji font does the same
# for the bot's button icons (✅ 🛠 👥); faketime moves the clock for `make test-dates`.
# Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || missing="$$missing fonts-noto-cjk"; \
	fc-list 2>/dev/null | grep -qi 'Noto Color Emoji' || missing="$$missing fonts-noto-color-emoji"; \
	command -v faketime >/dev/null 2>&1 || missing="$$missing faketime"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D $(DOMAIN) 2>&1 | grep -v '^compiling' || true
	@test -f $(LOCALES)/zh_CN/LC_MESSAGES/$(DOMAIN).mo

setup: $(STAMP) translations

# Extract new strings and merge them into both catalogues (then translate them).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o $(LOCALES)/$(DOMAIN).pot .
	$(BIN)/pybabel update -i $(LOCALES)/$(DOMAIN).pot -d $(LOCALES) -D $(DOMAIN) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python locales/sync_english.py

test: setup system-deps
	$(BIN)/python -m pytest -q

# The date-sensitive tests with the machine's clock a year ahead and a year back:
# nothing may depend on today's date (the bot and the sandbox share the tests' clock).
DATE_TESTS ?= tests/e2e tests/greetings tests/activities/test_reminders.py \
	tests/grievances tests/polls tests/broadcasts/test_e2e.py tests/test_demo.py \
	tests/browser/test_web_chat.py
test-dates: setup system-deps
	for shift in +365d -365d; do \
		echo "== the machine's clock moved $$shift"; \
		FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$$shift" $(BIN)/python -m pytest -q -p no:cacheprovider $(DATE_TESTS) || exit 1; \
	done

run: setup
	$(BIN)/union-bot run

demo: setup
	$(BIN)/union-bot demo $(DEMO_ARGS)

sandbox: setup
	$(BIN)/union-bot sandbox

# Style, types and the layers (an import against ARCHITECTURE.md's layers fails here).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find . -name '*.mo' -delete
