"""Patient feedback (NPS): signed links in messages, the scores they record, and the clinic's NPS."""
