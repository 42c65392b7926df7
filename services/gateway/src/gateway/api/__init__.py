"""HTTP routes of the gateway service."""
