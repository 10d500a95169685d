-- CIS 4.7 (Security Hub CloudWatch.7): KMS keys disabled or scheduled for deletion, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.7 documents it.
-- Kept to KMS's eventSource, as the CIS filter itself is.
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
  eventid                                                                        AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'kms.amazonaws.com'
  AND eventname IN (
    'DisableKey', 'ScheduleKeyDeletion'
  )
ORDER BY event_time, event_id
