"""The mediation service: mediation cases, assignment, sessions and clocks for mediators."""
