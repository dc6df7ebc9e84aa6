"""The claim registry: one module per claim id (evidence -> statement and proof verdicts).

``claims.support.registry`` lists and runs them; ``claims.support.report`` writes the JSON, Markdown and LaTeX
reports. Each claim module holds, in one readable place, the paper's statement and argument,
the checks that gather evidence, and the rule that turns evidence into verdicts.
"""
