"""Cross-cutting pieces every package shares: settings, logging, the error base."""
