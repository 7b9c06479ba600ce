"""Models of the integrations app."""
