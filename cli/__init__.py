"""The ``infra-policy`` command line (thin: arguments in, engine, output out)."""
