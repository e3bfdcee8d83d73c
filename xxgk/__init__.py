"""The top floor: the `xxgk` command, what follows a change to the archive, and the demo.

Composes every other package (`archive`, `crawler`, `index`, `reports`, `search_web`); nothing imports it.
"""
