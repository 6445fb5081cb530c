"""Progress of one directive and compliance across units: who is done, who is late."""
