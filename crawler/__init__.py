"""Crawling: sources, polite fetching, listing and detail parsing, attachment text, crawl runs and the
scheduler. May import `archive` only (what follows a crawl is handed down as a callable)."""
