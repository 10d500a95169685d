-- CIS 4.12 (Security Hub CloudWatch.12): Network gateway changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.12 documents it.
-- Kept to EC2's eventSource, where customer and internet gateways live.
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
    'CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway', 'CreateInternetGateway',
    'DeleteInternetGateway', 'DetachInternetGateway'
  )
ORDER BY event_time, event_id
