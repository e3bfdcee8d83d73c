"""Crawling: sources, polite fetching, listing and detail parsing, crawl runs; imports only `archive`."""
