"""What ships: reading and checking one applicant, and turning it into evaluator inputs (one pipeline)."""
