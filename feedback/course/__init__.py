"""Course-level work, one layer above the single-report pipeline: checks across groups and the course pages."""
