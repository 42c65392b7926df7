"""ariscale node agent service."""
