"""records — the read side: search and one timeline per ticket, fed by every topic."""
