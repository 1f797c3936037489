"""The `arcttt` command: one module per subcommand over the library."""
