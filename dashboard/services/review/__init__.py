"""HQ review opinions and branch answers, the review queue, supervision, the weekly summary."""
