"""The local stack: the same handlers behind a threaded HTTP server, AWS
backed by moto in-process. Never deployed."""
