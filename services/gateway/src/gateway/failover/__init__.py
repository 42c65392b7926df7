"""A node died: write the events it can no longer send, and carry its bridges elsewhere."""
