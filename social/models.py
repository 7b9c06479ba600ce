"""Models of the social app."""
