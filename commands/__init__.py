"""The commands of hesk2intercom, one module each; cli.py parses options and calls them."""
