"""The claims: one module per claim id (evidence -> statement and proof verdicts), each defining
one :class:`~claims.support.base.Claim` object ``CLAIM``.

``claims.support`` holds what the claims share: the contract (``base``), the registry that lists
and runs them (``registry``), the reports (``report``, ``store``) and the helpers several claims
use. Each claim module holds, in one readable place, the paper's statement and argument, the
checks that gather evidence, the rule that turns evidence into verdicts, its controls and its
repairs.
"""
