"""One folder per source, the same shape each: `facts` (URLs, formats, quirks, citing SOURCES.md), `client`
(the calls), `parse` (reading what was saved), `ingest` (into the raw store and the lake), `releases` (what is
new, without downloading the data). Adding a source is copying a folder."""
