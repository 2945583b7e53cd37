"""Telegram plumbing: the transport, rate limits, the callback-data codec and delivery."""
