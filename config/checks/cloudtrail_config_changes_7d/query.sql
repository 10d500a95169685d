-- CIS 4.5 (Security Hub CloudWatch.5): CloudTrail configuration changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.5 documents it.
-- Kept to CloudTrail's eventSource. logging_stopped marks what the threshold counts: a StopLogging or
-- DeleteTrail that succeeded (no errorCode).
SELECT
  eventtime                                                                      AS event_time,
  account,
  awsregion                                                                      AS region,
  coalesce(useridentity.arn, useridentity.principalid, useridentity.invokedby)  AS principal,
  useridentity.type                                                              AS identity_type,
  eventsource                                                                    AS event_source,
  eventname                                                                      AS event_name,
  errorcode                                                                      AS error_code,
  sourceipaddress                                                                AS source_ip,
  CASE WHEN eventname IN ('StopLogging', 'DeleteTrail') AND errorcode IS NULL THEN 1 ELSE 0 END AS logging_stopped,
  eventid                                                                        AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'cloudtrail.amazonaws.com'
  AND eventname IN (
    'CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging',
    'StopLogging'
  )
ORDER BY event_time, event_id
