"""Publication: the private build file, the atomic rename into the published warehouse, the publication log."""
