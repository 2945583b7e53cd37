"""The Bot API: transport, rate limits, and turning a Response into Bot API calls. A leaf:
it knows Telegram and the plain reply types (bot.rendering.replies), nothing else of the bot."""
