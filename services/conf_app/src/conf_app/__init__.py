"""ariscale conf app service."""
