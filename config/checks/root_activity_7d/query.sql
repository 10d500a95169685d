-- CIS 4.3: root user activity that a person initiated (not an AWS service acting for root,
-- not an AwsServiceEvent).
SELECT
  eventtime                                                 AS event_time,
  account,
  awsregion                                                 AS region,
  eventsource                                               AS event_source,
  eventname                                                 AS event_name,
  sourceipaddress                                           AS source_ip,
  useragent                                                 AS user_agent,
  useridentity.sessioncontext.attributes.mfaauthenticated   AS mfa_authenticated,
  CASE WHEN eventtype IN ('AwsConsoleSignIn', 'AwsConsoleAction') THEN 'console' ELSE 'api' END AS access,
  errorcode                                                 AS error_code,
  eventid                                                   AS event_id
FROM cloudtrail_window
WHERE eventtime >= ? AND eventtime < ?
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND coalesce(eventtype, '') <> 'AwsServiceEvent'
ORDER BY event_time, event_id
