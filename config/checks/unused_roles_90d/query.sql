-- Roles of the IAM inventory with no sign of use in the lookback. A role is matched by account and name (the
-- ARN without its path): an AssumeRole call may name the role without its path.
WITH used AS (
  SELECT lower(regexp_replace(principal_arn, ':role/.*/', ':role/')) AS role_key
  FROM iam_activity
  WHERE period_start >= ? AND principal_type = 'Role'
  UNION
  SELECT lower(regexp_replace(assumed_role_arn, ':role/.*/', ':role/')) AS role_key
  FROM iam_activity
  WHERE period_start >= ? AND assumed_role_arn IS NOT NULL AND outcome = 'ok'
)
SELECT
  r.role_arn          AS role_arn,
  r.account           AS account,
  r.role_name         AS role_name,
  r.path              AS path,
  r.created           AS created,
  r.last_used         AS iam_last_used,
  r.attached_policies AS attached_policies,
  r.inline_policies   AS inline_policies,
  r.instance_profiles AS instance_profiles
FROM iam_roles r
WHERE NOT r.service_linked
  AND r.created < ?
  AND (r.last_used IS NULL OR r.last_used < ?)
  AND NOT EXISTS (SELECT 1 FROM used u WHERE u.role_key = lower(regexp_replace(r.role_arn, ':role/.*/', ':role/')))
ORDER BY r.role_arn
