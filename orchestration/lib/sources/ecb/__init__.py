"""ECB exchange rates: the monthly USD per EUR that puts both sides in one currency (SOURCES.md section 3)."""
