"""Clients of the providers' OAuth and user APIs (the only httpx users), one module per provider."""
