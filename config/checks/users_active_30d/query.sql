-- IAM users who made calls in the window (any outcome). Events with no user ARN
-- (e.g. a console sign-in for an unknown user name) name no real user and are left out.
SELECT
  useridentity.arn       AS user_arn,
  useridentity.username  AS user_name,
  useridentity.accountid AS account,
  count(*)               AS calls,
  min(eventtime)         AS first_seen,
  max(eventtime)         AS last_seen
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND useridentity.type = 'IAMUser'
  AND useridentity.arn IS NOT NULL
GROUP BY 1, 2, 3
ORDER BY user_arn, user_name, account
