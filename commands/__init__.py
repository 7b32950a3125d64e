"""One module per command: what the command does, between parsing (cli.py) and the packages."""
