-- IAM roles whose sessions made calls in the window (any outcome, including denied calls).
SELECT
  useridentity.sessioncontext.sessionissuer.arn       AS role_arn,
  useridentity.sessioncontext.sessionissuer.accountid AS account,
  count(*)                                            AS calls,
  min(eventtime)                                      AS first_seen,
  max(eventtime)                                      AS last_seen
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND useridentity.type = 'AssumedRole'
  AND useridentity.sessioncontext.sessionissuer.type = 'Role'
  AND useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
GROUP BY 1, 2
ORDER BY role_arn, account
