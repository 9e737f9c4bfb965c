"""Sources of readings for the producers: the simulator (and, later, file feeds and gateways)."""
