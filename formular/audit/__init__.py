"""The access log (PDL) and the event log: who read or did what, when and why."""
