"""The SLA monitor's pure domain: policy packs, deadline arithmetic, deadline
state and the events its transitions produce. No I/O beyond reading the policy
packs shipped inside the package."""
