"""Send-outs: choosing recipients, creating assignments in bulk, and following them up."""
