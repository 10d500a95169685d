-- CIS 4.9 (Security Hub CloudWatch.9): AWS Config recorder and delivery channel changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.9 documents it.
-- Kept to AWS Config's eventSource, as the CIS filter itself is. recording_stopped marks what the
-- threshold counts: a StopConfigurationRecorder or DeleteDeliveryChannel that succeeded.
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
  CASE WHEN eventname IN ('StopConfigurationRecorder', 'DeleteDeliveryChannel') AND errorcode IS NULL THEN 1 ELSE 0 END AS recording_stopped,
  eventid                                                                        AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND eventsource = 'config.amazonaws.com'
  AND eventname IN (
    'StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder'
  )
ORDER BY event_time, event_id
