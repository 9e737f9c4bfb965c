"""The archive: raw readings and dead letters of a namespace in daily files (``envmon archive``)."""
