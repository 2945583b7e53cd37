"""Reading an update and routing it to its use case: ``bot.handlers.updates.handle``."""
