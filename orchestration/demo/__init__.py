"""Stand-ins for the sources, for the offline demo and the tests: local HTTP servers that speak each source's
protocol and format, and misbehave the ways real servers do. Not production code: nothing in the pipeline's own
code paths (`orchestration.lib`, `orchestration.defs`, the definitions) imports this package; a test asserts it."""
