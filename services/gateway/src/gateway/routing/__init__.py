"""Routing: Asterisk's ARI spec → one plan per operation → the node(s) that answer it."""
