"""ariscale gateway service."""
