"""Development-only tooling: what ``make run`` needs around the console, never installed in production."""
