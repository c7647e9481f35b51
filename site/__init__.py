"""infra-policy policy site (rendered from engine results)."""

# After a build, the site cache's entries and files no build has used for this long are removed (kept
# here, not in site/cache.py, so that the CLI's help can say it without importing the cache at start-up).
UNUSED_DAYS = 30
