"""What ships: the answers advisors act on (assessment, proof, repairs, fees, interview, batch, what-if)."""
