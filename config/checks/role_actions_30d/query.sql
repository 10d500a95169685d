-- Which services and actions each role called. The optional role_arns list narrows the roles
-- (an empty list means every role). Only logged events count: without data events in scope,
-- data-plane actions such as s3:GetObject never appear here.
SELECT
  useridentity.sessioncontext.sessionissuer.arn AS role_arn,
  eventsource                                   AS event_source,
  eventname                                     AS event_name,
  count(*)                                      AS calls,
  max(eventtime)                                AS last_seen
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND useridentity.type = 'AssumedRole'
  AND useridentity.sessioncontext.sessionissuer.type = 'Role'
  AND useridentity.sessioncontext.sessionissuer.arn IS NOT NULL
  AND (cardinality(?) = 0 OR contains(?, useridentity.sessioncontext.sessionissuer.arn))
GROUP BY 1, 2, 3
ORDER BY role_arn, event_source, event_name
