"""Deadline clocks: started, met, flagged as violations, followed on the overdue tracker."""
