"""Benchmarks (not tests): ``make bench``; the fast check that the bench still measures what it says lives beside them."""
