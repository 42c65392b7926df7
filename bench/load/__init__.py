"""``make load``: real SIP calls through the cluster vs the same app straight on one node."""
