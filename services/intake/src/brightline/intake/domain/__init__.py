"""Pure intake domain logic: greetings, call scripts. Standard library, pyyaml and lunar_python only."""
