"""Complaints, disputes and difficult cases: the register, each item's steps, the overdue return
visits and the summary analysis."""
