-- CIS 4.1: calls refused for lack of permission, by principal and action. For a role session the
-- principal is the role, not the session.
SELECT
  coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, useridentity.principalid) AS principal,
  useridentity.type AS identity_type,
  eventsource       AS event_source,
  eventname         AS event_name,
  errorcode         AS error_code,
  count(*)          AS errors,
  min(eventtime)    AS first_seen,
  max(eventtime)    AS last_seen
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND (errorcode LIKE '%UnauthorizedOperation' OR errorcode LIKE 'AccessDenied%')
GROUP BY 1, 2, 3, 4, 5
ORDER BY errors DESC, principal, identity_type, event_source, event_name, error_code
