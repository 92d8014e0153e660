"""Import of CSV and Excel files into the CRM tables: file → text frame → mapped, cast and checked
frames per table (with per-row errors) → one transaction (upsert, batch record, audit).

Pure except `cxdash.importer.run`, which reads the database to check a file and owns the one
transaction that writes it.
"""
