"""Cases: intake and import, who may see a case, its detail, history and state."""
