"""The parties app's REST API (under /api/v1/)."""
