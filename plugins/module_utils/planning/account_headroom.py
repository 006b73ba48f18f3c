"""How much read capacity the account leaves for boosts, and what to say when its limit cannot be trusted."""

from __future__ import annotations

import math


def account_headroom(account_max_rcu: int, in_use: int) -> tuple[float, str | None]:
    """(RCU the plan's boosts may add together, a warning or None).

    An unknown limit (0: DescribeLimits failed or was not allowed) is not a limit of 0, and a limit below
    what the account's tables already hold is not a limit that exists (DynamoDB could not have granted it):
    both plan without an account cap, and say so.
    """
    if account_max_rcu <= 0:
        return math.inf, ("the account's read capacity limit is unknown (DescribeLimits was not read): boosts are "
                          "planned without an account cap; set model.account_max_rcu to cap them")
    if in_use > account_max_rcu:
        return math.inf, (f"the account's read capacity limit {account_max_rcu} RCU is below the {in_use} RCU its "
                          "tables already hold, so it is not the limit in force: boosts are planned without an "
                          "account cap")
    return float(account_max_rcu - in_use), None
