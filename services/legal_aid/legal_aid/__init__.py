"""Union legal aid: applications, eligibility as explained rules, clocks, lawyers, progress."""
