"""The command-line interface: thin commands over the library. The only package that prints."""
