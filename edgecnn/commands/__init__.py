"""One module per CLI command, each exposing a click command named `command`.

Commands parse options and call the stage packages; heavy imports happen inside the command body.
"""
