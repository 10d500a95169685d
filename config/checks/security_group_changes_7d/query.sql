-- CIS 4.10 (Security Hub CloudWatch.10): Security group changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.10 documents it.
-- Kept to EC2's eventSource, where security groups live.
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
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname IN (
    'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
    'CreateSecurityGroup', 'DeleteSecurityGroup'
  )
ORDER BY event_time, event_id
