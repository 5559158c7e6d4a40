"""Simulated hosts for the demo and the tests: real SSH servers that answer from recordings."""
