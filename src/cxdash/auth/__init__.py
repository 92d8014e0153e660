"""Users, roles, team scope, sessions, login throttling and the audit log (pure rules + database)."""
