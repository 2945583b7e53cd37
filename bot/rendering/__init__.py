"""Every text and keyboard a person sees, built from the catalogue (no Telegram import)."""
