"""Database schema, engines and schema-version checks."""
