"""Transportation internals: candidates, offers, batching, trips, ETA, simulator."""
