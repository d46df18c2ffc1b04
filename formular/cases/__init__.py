"""Cases (ärenden): a citizen's errands with a clinic, run on the case workflow."""
