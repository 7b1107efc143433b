"""The statuses of a version, and which of them hold committed records.

held -> approved -> pending propagation -> successfully in production | propagation failed
held -> rejected (by a person, or superseded by a later sync of the same district and year)
"""

HELD = "held"
APPROVED = "approved"  # approved, waiting for its commit-and-deliver run
REJECTED = "rejected"
PENDING_PROPAGATION = "pending propagation"
PROPAGATION_FAILED = "propagation failed"
IN_PRODUCTION = "successfully in production"

# Versions whose records are in the golden store: the base of the next change set.
COMMITTED = (PENDING_PROPAGATION, PROPAGATION_FAILED, IN_PRODUCTION)
# Versions waiting for a person or for their commit run: deliveries wait for them.
AWAITING = (HELD, APPROVED)
