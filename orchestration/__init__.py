"""mirror-trade: the pipeline's Python package (definitions, defs/, lib/, cli/ and the demo's stand-ins in demo/)."""
