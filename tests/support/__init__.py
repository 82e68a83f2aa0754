"""Everything tests share, one job a module; tests import from here, never from each other.

- `config`: the tests' token, secret key, admin and group ids; `bot_settings`, `make_runtime`.
- `clock`: `T0` (the tests' "now"), `FakeClock` (the bot's), `VirtualTime` (the worker's
  sleeps), `shanghai()` (a local time as UTC).
- `databases`: the SQLite and PostgreSQL databases and `clean_database` (the fixtures
  `database_url`, `engine`, `sessions`, `runtime` and `bot` are in `tests/conftest.py`).
- `rules`: `RuleWatch`, the "commit, then talk to Telegram" check every e2e bot runs under.
- `bot`: the bot against the sandbox: `running_bot`, `fresh_bot`, `bot_on` (one life of
  the bot, for restarts), `BotHarness`, `UpdateTracker`.
- `members`: THE way to get members: `add_members` (rows in bulk), `add_member` /
  `register_member` (one, through the service), `new_member` (an unsaved row),
  `add_person` / `add_people` (a sandbox user whose row is there), `set_role`, and reading
  rows back (`member_row`, `member_id`, `member_by_id`).
- `chat`: registering through the chat (`register`, `registered`, `registered_admin`,
  `registered_cadre`) and finding the bot's messages and buttons.
- `outbox`: `delivered` (wait until the outbox is sent), `quick_delivery`, `outbox_rows`.
- `media`: images and documents to send.
- `web`: the web chat in the browser tests (`be`, `start_chat`, `say`, buttons).
- `processes`: `union-bot` as a real process.
- Per feature: `activities`, `broadcasts`, `grievances` (the `World` of a member and a
  cadre), `polls`, `delivery` (the worker on its own, `DeliverySandbox`).
"""
