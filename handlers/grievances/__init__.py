"""Grievances: a member writes to the union anonymously, cadres answer as "the union".

One module per interaction; `members` and `union` register them in
`bot.app.FEATURES` (the members' side first, where it always was):

- the member: `writing` (a new case), `cases` (📂 My cases, close, sign),
  `additions` (➕ Add, replies to the bot, offers), `rating`, `edits`;
- the union: `cadre` (the card's buttons), `answers` (replies passed on),
  `reports` (/cases, /case, statistics, audit), `settings` (the admin's),
  `presence` (the bot removed from or back in a group).

Rules are `storage.grievance_rules` and `storage.grievances`; what others are
told is `notices.grievances`; how it reads is `display.grievances`.
"""
