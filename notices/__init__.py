"""Every message for someone other than the person tapping, one module per feature.

A notice writes outbox rows in the caller's transaction, so the change and the
message that announces it commit together (or neither does), and returns
whether it wrote any; the caller wakes the delivery worker after its commit
(`jobs.delivery.wake_after_commit`, a layer above). Handlers and jobs share
these functions, so a reminder sent by a job and a notice sent on a press read
alike. Words come from `display`, rows from `storage.outbox`.
"""
