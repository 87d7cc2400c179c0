"""UN Comtrade, the partner side: what non-EU countries report importing and exporting (SOURCES.md section 2)."""
