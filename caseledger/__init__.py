"""CaseLedger: billing, trust accounting and collections for immigration law firms."""
