"""Special cases (特殊赔案): raising one with its justification, the chain's decisions, the lists and
the periodic report."""
