"""Eurostat Comext, the EU side: member states' exports by CN8 and month (SOURCES.md section 1)."""
