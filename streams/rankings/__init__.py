"""Rankings: ranks with ties and rank changes (pure), snapshots per board."""
