"""Water: per reading, the GB 3838-2002 class, the target check and the CWQI contribution."""
