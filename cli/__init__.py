"""The `vidstyle` command line (installed as vidstyle.cli): parses arguments, calls the library."""
