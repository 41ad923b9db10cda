"""The scoring component: scorecards, grade/credit-line/pricing decision tables, risk interception,
limits, the credit-bureau client and batch rating. Pure: it imports no web framework, engine,
scheduler or other loanflow package. See docs/scoring.md for the public API and data formats."""
