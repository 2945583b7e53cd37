"""Use cases: what the bot does for an event, shared by handlers and the dispatcher."""
