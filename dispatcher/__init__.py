"""The dispatch engine: incidents, lifecycle, routing, clocks and persistence (pure: no web or queue imports)."""
