"""The web process: Flask app factory, HTTP APIs, the Dash command center, and the `gridcommand` CLI."""
