"""Sources of readings for the producers: the simulator and the file feed."""
