-- CIS 4.13 (Security Hub CloudWatch.13): Route table changes, one row per event, refused attempts included.
-- The event names are the CIS metric filter's, as Security Hub's CloudWatch.13 documents it.
-- CreateRoute and DeleteRoute also exist in API Gateway v2 (API routes, not network routes), so the check
-- keeps to EC2's eventSource.
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
    'CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation',
    'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable'
  )
ORDER BY event_time, event_id
