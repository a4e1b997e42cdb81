"""`make loadmodel`: the real publisher on simulated time (issue 13)."""
