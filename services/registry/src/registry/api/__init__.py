"""HTTP routes of the registry service."""
