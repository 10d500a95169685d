-- Every (role, granted action) with its verdict. A role is matched by account and name (the ARN without its path).
-- Data events count as logged for an account and service when at least one was seen there in the lookback.
WITH scope AS (
  SELECT DISTINCT account, event_source
  FROM iam_activity
  WHERE period_start >= ? AND event_category = 'Data'
),
used AS (
  SELECT
    lower(regexp_replace(a.principal_arn, ':role/.*/', ':role/'))       AS role_key,
    m.action                                                           AS action,
    sum(a.calls)                                                       AS calls,
    max(a.last_seen)                                                   AS last_seen,
    array_join(array_sort(array_agg(DISTINCT a.session_name)), '; ')   AS sessions
  FROM iam_activity a
  JOIN iam_event_actions m ON m.event_source = a.event_source AND m.event_name = a.event_name
  WHERE a.period_start >= ? AND a.principal_type = 'Role' AND a.outcome = 'ok' AND m.action IS NOT NULL
    AND (cardinality(?) = 0 OR contains(?, a.session_name))
  GROUP BY 1, 2
)
SELECT
  g.role_arn                                                AS role_arn,
  g.account                                                 AS account,
  coalesce(g.action, '(actions of ' || g.granted_by || ')') AS action,
  CASE
    WHEN g.kind = 'unknown_policy' THEN 'unknown'
    WHEN u.calls > 0 THEN 'used'
    WHEN g.kind = 'permission_only' THEN 'unknown'
    WHEN g.kind = 'data' AND s.account IS NULL THEN 'unknown'
    ELSE 'unused'
  END                                                       AS usage,
  coalesce(u.calls, 0)                                      AS calls,
  u.last_seen                                               AS last_seen,
  u.sessions                                                AS sessions,
  CASE
    WHEN g.kind = 'unknown_policy' THEN 'the attached policy ' || g.granted_by || ' is not in the inventory (an AWS managed policy the call left out): its actions are unknown'
    WHEN u.calls > 0 THEN 'called in the lookback'
    WHEN g.kind = 'permission_only' THEN 'a permission only, never an API call of its own: the logs cannot show its use'
    WHEN g.kind = 'data' AND s.account IS NULL THEN 'a data-plane action, and no data events of ' || g.event_source || ' were logged for account ' || g.account || ' in the lookback'
    ELSE 'not called in the lookback, and CloudTrail logs it: safe to remove on the logs'' evidence'
  END                                                       AS reason,
  g.granted_by                                              AS granted_by
FROM iam_role_grants g
LEFT JOIN used u ON u.role_key = lower(regexp_replace(g.role_arn, ':role/.*/', ':role/')) AND u.action = g.action
LEFT JOIN scope s ON s.account = g.account AND s.event_source = g.event_source
WHERE cardinality(?) = 0 OR contains(?, g.role_arn)
ORDER BY g.role_arn, action
