"""HTTP routes of the node agent service."""
