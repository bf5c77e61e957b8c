"""The claim quality scorecard: its configuration, the indicators computed from case data, the
financial figures HQ enters, and the card of each branch with its ranking, trend and drill-down."""
