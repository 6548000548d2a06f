"""Shipped rule data for intake (greetings, call scripts); edited by the utility, versioned."""
