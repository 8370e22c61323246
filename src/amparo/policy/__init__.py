"""Policy: declarative YAML rules with jurisdiction profiles, and a pure evaluator."""
