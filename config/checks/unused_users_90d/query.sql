-- IAM users of the inventory with no call and no successful console sign-in in the lookback.
WITH used AS (
  SELECT DISTINCT lower(principal_arn) AS user_key
  FROM iam_activity
  WHERE period_start >= ? AND principal_type = 'IAMUser'
    AND (event_name <> 'ConsoleLogin' OR outcome = 'ok')
)
SELECT
  u.user_arn          AS user_arn,
  u.account           AS account,
  u.user_name         AS user_name,
  u.created           AS created,
  u.groups            AS groups,
  u.attached_policies AS attached_policies,
  u.inline_policies   AS inline_policies,
  u.console_password  AS console_password,
  u.access_keys       AS access_keys
FROM iam_users u
WHERE u.created < ?
  AND NOT EXISTS (SELECT 1 FROM used x WHERE x.user_key = lower(u.user_arn))
ORDER BY u.user_arn
