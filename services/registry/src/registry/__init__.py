"""ariscale registry service."""
