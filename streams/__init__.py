"""The Faust stream agents (built by ``create_app(settings)``); depends on ``pipeline`` only."""
