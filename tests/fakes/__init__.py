"""Fakes of the outside world only: the marketplace HTTP APIs, over real HTTP on loopback."""
