"""Who: parties, their names and relationships, people who sign, and users' memberships."""
