"""Financing over REST: programs, participants, financing requests, the approval queue."""
