"""verblijfsregels engine: load applicant facts, evaluate the rules, build proofs."""
