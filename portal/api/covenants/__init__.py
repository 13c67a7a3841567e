"""The covenants app's REST API (under /api/v1/)."""
