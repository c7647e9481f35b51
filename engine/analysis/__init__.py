"""Questions asked of a decision: what if, what would flip it, what decides it, what changed."""
