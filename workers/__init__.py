"""Workers: what runs under Dramatiq (actors, broker, shared pacing, the coordinator watchdog)."""
