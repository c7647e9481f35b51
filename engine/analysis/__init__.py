"""Questions asked of a decision: what if, what would flip it, what decides it, what changed."""

# The most fact changes one contrastive set may have (`explain --max-changes`, `Decision.contrast`):
# the search grows with the number of combinations, past any useful time beyond four.
MAX_CHANGES = 4
