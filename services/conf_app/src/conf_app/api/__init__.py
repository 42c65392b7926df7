"""HTTP routes of the conf app service."""
