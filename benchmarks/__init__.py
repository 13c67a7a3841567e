"""
Benchmarks: how fast the portal is against the floor of its own machine, at portfolio scale.

Run with ``make bench``. Every figure is measured side by side with its floor in the same
run and reported as a ratio, since the machines they run on are shared and noisy. Never
part of the test run.
"""
