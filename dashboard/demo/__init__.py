"""Demo data: an organisation, people and about 2,000 cases at every stage, loaded by the launcher
into an empty database (and used by tests and benchmarks). It sits above the services, which it
calls as the users would; nothing below it imports it."""
