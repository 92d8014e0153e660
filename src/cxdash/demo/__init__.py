"""The demo data generator: realistic CRM data with planted stories (data/README.md)."""
