"""HTTP adapters: the Powertools resolver, error mapping, request parsing and HTML pages."""
