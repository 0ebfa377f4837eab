"""`python -m scripts.review smoke|leftovers --stack pr-<n>`: what a review stack's workflow runs besides
the loads: a smoke query of what they loaded (`smoke`) and, after destroy, what is left (`leftovers`)."""
