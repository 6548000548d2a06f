"""Shipped rule data for callback (the callback script); edited by the utility, versioned."""
