"""Runs the bot: polling and webhook intake, the durable inbox and per-person order, the
repeating jobs, the ops server, and delivery composed for replies and the morning."""
