"""infra-policy policy site (rendered from engine results)."""
