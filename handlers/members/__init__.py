"""Registration, consent, the main menu, officers' approvals and roles, notice settings."""
